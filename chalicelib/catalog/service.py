"""The catalog's operations: list, read, create, replace, delete, import and export.

The table is small and bounded (a workbook holds at most ``excel.MAX_ROWS`` categories), so a
listing is one consistent Scan sorted here; no index is needed.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.catalog import rules
from chalicelib.catalog.models import ViolationRow
from chalicelib.clock import iso
from chalicelib.errors import Conflict, NotFound
from chalicelib.provider import now

_ID = re.compile(rules.ID_PATTERN)
FIELDS = ("name", "context", "ages", "labelling", "factors", "basis", "lexicons")


def render(row: ViolationRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "context": row.context, "ages": list(row.ages or []),
            "labelling": row.labelling, "factors": list(row.factors or []), "basis": row.basis,
            "lexicons": list(row.lexicons or []), "created_at": row.created_at, "updated_at": row.updated_at}


def _content(entry: dict[str, Any]) -> dict[str, Any]:
    return {field: entry.get(field) if field not in ("ages", "factors", "lexicons") else list(entry.get(field) or [])
            for field in FIELDS}


def entries() -> list[dict[str, Any]]:
    rows = [render(row) for row in ViolationRow.scan(consistent_read=True)]
    return sorted(rows, key=lambda r: rules.natural_key(r["id"]))


def listing() -> dict[str, Any]:
    results = entries()
    return {"count": len(results), "results": results}


def _row(violation_id: str) -> ViolationRow:
    if not _valid_id(violation_id):
        raise NotFound(f"no violation category {violation_id!r}")
    try:
        return ViolationRow.get(violation_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"no violation category {violation_id!r}") from None


def _valid_id(violation_id: str) -> bool:
    return _ID.fullmatch(violation_id) is not None and violation_id not in rules.RESERVED_IDS


def get(violation_id: str) -> dict[str, Any]:
    return render(_row(violation_id))


def _new_row(violation_id: str, content: dict[str, Any], created_at: str, stamp: str) -> ViolationRow:
    return ViolationRow(violation_id, created_at=created_at, updated_at=stamp, **_content(content))


def create(entry: dict[str, Any]) -> dict[str, Any]:
    stamp = iso(now())
    row = _new_row(entry["id"], entry, stamp, stamp)
    try:
        row.save(condition=ViolationRow.id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(f"violation category {entry['id']!r} exists; PUT /violations/{entry['id']} replaces it",
                           code="violation_exists") from None
        raise
    return render(row)


def replace(violation_id: str, content: dict[str, Any]) -> dict[str, Any]:
    current = _row(violation_id)
    row = _new_row(violation_id, content, current.created_at, iso(now()))
    try:
        row.save(condition=ViolationRow.id.exists())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"no violation category {violation_id!r}") from None
        raise
    return render(row)


def delete(violation_id: str) -> None:
    if not _valid_id(violation_id):
        raise NotFound(f"no violation category {violation_id!r}")
    try:
        ViolationRow(violation_id).delete(condition=ViolationRow.id.exists())
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"no violation category {violation_id!r}") from None
        raise


def upsert(incoming: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Write validated entries by id: new ids are created, changed ones replaced, equal ones left
    alone (their stamps too), so importing the same workbook again writes nothing. Ids the
    workbook does not name are kept. A failure midway leaves some rows written; importing the
    same workbook again completes it."""
    existing = {row.id: row for row in ViolationRow.scan(consistent_read=True)}
    stamp = iso(now())
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    changed: list[ViolationRow] = []
    for entry in incoming:
        current = existing.get(entry["id"])
        if current is None:
            counts["created"] += 1
            changed.append(_new_row(entry["id"], entry, stamp, stamp))
        elif _content(render(current)) != _content(entry):
            counts["updated"] += 1
            changed.append(_new_row(entry["id"], entry, current.created_at, stamp))
        else:
            counts["unchanged"] += 1
    with ViolationRow.batch_write() as batch:
        for row in changed:
            batch.save(row)
    return counts


def import_workbook(data: bytes) -> dict[str, Any]:
    from chalicelib.catalog import excel

    sheet, records = excel.read(data)
    return {"count": len(records), **upsert(records), "sheet": sheet}


def export_workbook() -> bytes:
    from chalicelib.catalog import excel

    return excel.write(entries())

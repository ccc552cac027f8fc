"""Log lines from the files table's stream: each move of a bulk item's file writes one line.

``handle(records)`` takes DynamoDB stream records in AWS's shape (``record.to_dict()`` of
Chalice's ``DynamoDBRecord``; NEW_AND_OLD_IMAGES) and returns the ids of the tasks it wrote to.
A record is idempotent per (file, sequence, event): a redelivered batch writes nothing twice
(``logs.append`` with a source). Files without ``bulk_task`` are skipped at no cost.

Lines (``lines_for``, pure):
- the upload completed (``completed`` false -> true while ``pending``): "upload complete",
- ``pending -> processing``: "stored and verified",
- ``processing -> ready``: "analyzed",
- ``ready -> db_ready``: "rated" (with the rating when the row carries one),
- ``* -> error``: "failed: <reason>" (level error; a cancelled upload: level warning).
The task-level lines (created, retry, cancel) are written by ``chalicelib.bulk.service``.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib.bulk import logs
from chalicelib.bulk.logs import Line
from chalicelib.status import FileStatus

CANCELLED_REASON = "upload cancelled"


def _value(image: Mapping[str, Any] | None, name: str) -> Any:
    """One attribute of a stream image (DynamoDB JSON): S, N (as int), BOOL; else None."""
    if not image or name not in image:
        return None
    typed = image[name]
    if "S" in typed:
        return typed["S"]
    if "N" in typed:
        return int(float(typed["N"]))
    if "BOOL" in typed:
        return typed["BOOL"]
    return None


def _size(n: int | None) -> str:
    return f"{n:,} bytes" if n is not None else "? bytes"


def lines_for(record: Mapping[str, Any]) -> list[tuple[str, Line, str]]:
    """(task id, line, source) for each line a files-stream record makes; [] for most records."""
    if record.get("eventName") != "MODIFY":
        return []  # INSERT: the service wrote "created"; REMOVE: files are not deleted
    change = record.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    task, account, file_id = _value(new, "bulk_task"), _value(new, "bulk_account"), _value(new, "file_id")
    if not (task and account and file_id):
        return []
    name = _value(new, "filename") or file_id
    seq = _value(new, "sequence") or 0
    status, before = _value(new, "status"), _value(old, "status")
    out: list[tuple[str, Line, str]] = []

    def add(level: str, text: str, event: str) -> None:
        out.append((task, Line(account, level, f"{name}: {text}", file_id), f"{file_id}#{seq}#{event}"))

    if _value(new, "completed") and not _value(old, "completed") and status == FileStatus.PENDING:
        add("info", f"upload complete ({_value(new, 'part_count')} part(s)); verifying size and sha256",
            "completed")
    if status != before:
        if status == FileStatus.PROCESSING:
            add("info", f"stored and verified ({_size(_value(new, 'stored_size'))}); analysis running",
                "status")
        elif status == FileStatus.READY:
            add("info", "analyzed: a result is stored", "status")
        elif status == FileStatus.DB_READY:
            rating = _value(new, "rating")
            add("info", "rated" + (f": {rating}" if rating else ": findings and rating written"), "status")
        elif status == FileStatus.ERROR:
            reason = _value(new, "error") or "no reason given"
            add("warning" if reason == CANCELLED_REASON else "error", f"failed: {reason}", "status")
    return out


def handle(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """Write the lines of ``records`` (in order); the task ids written to."""
    touched: set[str] = set()
    for record in records:
        for task, line, source in lines_for(record):
            if logs.append(task, line, source) is not None:
                touched.add(task)
    return touched

"""The page list: the ``by_title`` index queried forwards or backwards from an opaque cursor."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib import cursor as cursor_codec
from chalicelib.ids import is_id
from chalicelib.pages.models import PAGES_GSI_PK, PageRow, page_pk, title_sort_key

NEXT, PREVIOUS = "n", "p"


def _encode(direction: str, row: PageRow) -> str:
    return cursor_codec.encode([direction, row.title_key, row.page_id])


def _decode(cursor: str, prefix: str | None) -> tuple[str, dict[str, Any]]:
    """Direction and DynamoDB start key; anything malformed or from another filter is a 400."""
    value = cursor_codec.decode(cursor)
    if not (isinstance(value, list) and len(value) == 3):
        raise cursor_codec.invalid()
    direction, title_key, page_id = value
    if not (direction in (NEXT, PREVIOUS) and isinstance(title_key, str) and title_key != ""
            and len(title_key.encode()) <= 1024
            and is_id(page_id)):
        raise cursor_codec.invalid()
    if prefix and not title_key.startswith(prefix):
        raise cursor_codec.invalid("the cursor belongs to another title filter")
    start = {"gsi_pk": {"S": PAGES_GSI_PK}, "title_key": {"S": title_key},
             "pk": {"S": page_pk(page_id)}, "sk": {"S": "META"}}
    return direction, start


def list_pages(limit: int, cursor: str | None, title: str | None, base_url: str) -> dict[str, Any]:
    prefix = title_sort_key(title) if title else None
    condition = PageRow.title_key.startswith(prefix) if prefix else None
    direction, start = _decode(cursor, prefix) if cursor else (NEXT, None)
    forward = direction == NEXT
    rows = list(PageRow.by_title.query(PAGES_GSI_PK, condition, scan_index_forward=forward,
                                       last_evaluated_key=start, limit=limit + 1, page_size=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit] if forward else list(reversed(rows[:limit]))
    has_next = more if forward else cursor is not None
    has_previous = cursor is not None if forward else more

    def link(direction: str, row: PageRow | None) -> str | None:
        if row is None:
            return None
        params = {"limit": limit, **({"title": title} if title else {}), "cursor": _encode(direction, row)}
        return f"{base_url}/pages?{urlencode(params)}"

    return {
        "count": PageRow.by_title.count(PAGES_GSI_PK, condition),
        "next": link(NEXT, rows[-1]) if has_next and rows else None,
        "previous": link(PREVIOUS, rows[0]) if has_previous and rows else None,
        "results": [{"id": r.page_id, "title": r.title, "url": f"{base_url}/pages/{r.page_id}"} for r in rows],
    }

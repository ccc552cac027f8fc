"""What a client may watch. A topic is ``file:<id>`` or ``task:<id>``; each kind has an authorizer
``(principal, id) -> bool`` that answers whether this caller may see it.

Files: the owner, or an admin (as ``GET /files/{id}``). Bulk tasks: the hook below. The bulk
capability plugs its check in by naming it in ``AUTHORIZERS["task"]`` (``"module:function"``,
loaded on first use, so this module imports nothing of bulk and no import order matters), or
at run time with ``register("task", fn)``. Until one is set, every task subscription is refused
as not found, like a task that does not exist.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from chalicelib.auth import Principal
from chalicelib.ids import is_id

Authorizer = Callable[[Principal, str], bool]

# kind -> "chalicelib.<module>:<function>" or a function; None: nobody may watch that kind yet.
AUTHORIZERS: dict[str, str | Authorizer | None] = {
    "file": "chalicelib.realtime.topics:may_watch_file",
    "task": "chalicelib.bulk.live:may_watch",  # bulk uploads: the task's owner
}
FIELDS = {"file_id": "file", "task_id": "task"}


def register(kind: str, authorizer: Authorizer | str | None) -> None:
    AUTHORIZERS[kind] = authorizer


def topic(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def parse(topic_name: str) -> tuple[str, str]:
    kind, _, ident = topic_name.partition(":")
    return kind, ident


def may_watch(principal: Principal, kind: str, ident: str) -> bool:
    if kind not in AUTHORIZERS or not is_id(ident):
        return False
    authorizer = AUTHORIZERS[kind]
    if authorizer is None:
        return False
    if isinstance(authorizer, str):
        module, _, name = authorizer.partition(":")
        authorizer = getattr(importlib.import_module(module), name)
    return bool(authorizer(principal, ident))


def may_watch_file(principal: Principal, file_id: str) -> bool:
    from chalicelib.uploads.models import FileRow

    try:
        row = FileRow.get(file_id, consistent_read=True, attributes_to_get=["owner"])
    except FileRow.DoesNotExist:
        return False
    return row.owner == principal.sub or principal.role == "admin"


def snapshot(kind: str, ident: str) -> dict:
    """Where a subscription starts: a file's status and sequence, and its refer key's URL while
    one works (read after the subscription was written, so every later change is pushed; one seen
    twice carries the same sequence)."""
    if kind != "file":
        return {}
    from chalicelib.provider import settings
    from chalicelib.refer import service as refer
    from chalicelib.uploads.models import FileRow

    try:
        row = FileRow.get(ident, consistent_read=True)
    except FileRow.DoesNotExist:
        return {}
    state = {"status": row.status, "sequence": int(row.sequence), "at": row.status_at}
    base_url = settings().public_base_url or settings().api_base_url
    if row.refer_issue and base_url:
        view = refer.view(row, base_url.rstrip("/"))
        state["refer"] = {"state": view["state"], "url": view["url"], "expires_at": view["expires_at"]}
    return state

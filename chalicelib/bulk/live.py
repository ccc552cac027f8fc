"""Bulk tasks on the live channel: every stored log line, and a task's progress after each batch
of file changes, go to the task's WebSocket subscribers (topic ``task:<id>``)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.auth import Principal
from chalicelib.bulk import service, stream
from chalicelib.bulk.progress import log_message
from chalicelib.errors import NotFound
from chalicelib.realtime import push


def publish_line(task_id: str, line: Mapping[str, Any]) -> None:
    """A log sink (``logs.add_sink``): the line as the console's logs view shows it."""
    push.publish(f"task:{task_id}", log_message(task_id, line))


def on_files_change(records: Iterable[Mapping[str, Any]]) -> None:
    """The files stream's records: the log lines of bulk files' moves, then each touched task's
    progress (derived from its items' files now, so it never disagrees with them)."""
    for task_id in sorted(stream.handle(records)):
        push.publish(f"task:{task_id}", service.live_progress(task_id))


def may_watch(principal: Principal, task_id: str) -> bool:
    """The live channel's authorizer for ``task_id`` subscriptions: the task's owner (or admin)."""
    try:
        service.owned(task_id, principal)
    except NotFound:
        return False
    return True

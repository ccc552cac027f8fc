"""The messages a client receives, and what a change of a files row says.

Every message is JSON of at most 32 KB (API Gateway's WebSocket frame). A file's messages carry
its ``sequence``: one strictly increasing counter per file over every kind of event (status moves
and refer-key events, ``chalicelib.status``). Delivery is at least once, so a client drops a
message whose sequence it has seen, and a jump says it missed something (resync over REST).

- ``{"type": "status", "file_id", "status", "sequence", "at"}`` (+ ``"error"`` when status is error)
- ``{"type": "refer", "file_id", "event", "url", "expires_at", "sequence"}``: ``event`` is
  issued / rotated / frozen / expired; ``url`` is the download URL of the key that works from
  that event on (null once expired), ``expires_at`` when that key stops working.
- replies to the client's own actions: ``pong``, ``subscribed``, ``unsubscribed``, ``error``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_BYTES = 32 * 1024  # API Gateway's WebSocket frame


class MessageTooLarge(ValueError):
    """A message over one frame: the sender must cut it (e.g. a long log line) before publishing."""


def encode(message: Mapping[str, Any]) -> bytes:
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"a {message.get('type')} message of {len(data)} bytes is over {MAX_MESSAGE_BYTES}")
    return data


def error(code: str, text: str, **about: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": text, **about}


def _refer_changed(old: Any, new: Any) -> bool:
    if new.refer_event is None:
        return False
    return (old.refer_event, old.refer_window, old.refer_issue) != (
        new.refer_event, new.refer_window, new.refer_issue)


def file_messages(old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None,
                  base_url: str | None) -> list[dict[str, Any]]:
    """The messages one stream record of the files table carries (its images in DynamoDB JSON).

    A write that moved the status and issued a key holds two events: the status takes the lower
    sequence number, as ``status.transition`` numbers them. A write that bumped no sequence
    (uploads' bookkeeping, a second downloader joining) says nothing, and neither does a new row.
    """
    from chalicelib.uploads.models import FileRow

    if not new_image or not old_image:  # a new file: nobody watches it yet (subscribing needs it)
        return []
    new = FileRow.from_raw_data(dict(new_image))
    old = FileRow.from_raw_data(dict(old_image))
    sequence = int(new.sequence)
    if sequence <= int(old.sequence):
        return []
    status_moved = old.status != new.status
    refer = _refer_changed(old, new)
    out: list[dict[str, Any]] = []
    if status_moved:
        message = {"type": "status", "file_id": new.file_id, "status": new.status,
                   "sequence": sequence - 1 if refer else sequence, "at": new.status_at}
        if new.status == "error" and new.error:
            message["error"] = new.error[:1000]
        out.append(message)
    if refer:
        out.append(refer_message(new, base_url))
    return out


def refer_message(row: Any, base_url: str | None) -> dict[str, Any]:
    """The key event on ``row`` as of its own time: the URL of the window it announced and when
    that key stops working, judged at the event's moment, not when the push runs."""
    from chalicelib.clock import iso
    from chalicelib.provider import settings
    from chalicelib.refer import rules
    from chalicelib.refer import service as refer

    fields = refer.fields(row)
    event = row.refer_event
    if event == "frozen" and fields.frozen_at is not None:
        at = fields.frozen_at
    elif event in ("issued", "rotated") and fields.issued_at is not None:
        at = rules.window_start(fields.issued_at, int(row.refer_window or 0))
    else:  # expired: past any end
        at = float("inf")
    current = rules.current(fields, at, settings().refer_download_window)
    url = None
    if current.window is not None and base_url:
        url = refer.download_url(base_url.rstrip("/"), refer.key_of(row, current.window))
    return {"type": "refer", "file_id": row.file_id, "event": event, "url": url,
            "expires_at": iso(current.expires_at) if current.expires_at is not None else None,
            "sequence": int(row.sequence)}

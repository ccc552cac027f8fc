"""What the WebSocket handlers do: connect (token from ``?token=``), the client's actions, disconnect.

Client actions (JSON text, at most 4 KB): ``{"action": "subscribe" | "unsubscribe", "file_id" |
"task_id": <id>}`` and ``{"action": "ping"}``. Replies: ``{"type": "subscribed", "file_id",
"status", "sequence", "at", "refer"?}`` (the file's state when the subscription began, with
``refer: {"state", "url", "expires_at"}`` once a key was issued: later messages follow it),
``{"type": "subscribed", "task_id"}``, ``{"type": "unsubscribed", ...}``, ``{"type": "pong"}``,
``{"type": "error", "code", "message", ...}``. A file or task the caller may not see is
``not_found``, exactly like one that does not exist.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib import auth
from chalicelib.errors import ApiError
from chalicelib.ids import is_id
from chalicelib.observability import count
from chalicelib.realtime import push, store, topics
from chalicelib.realtime.messages import error

MAX_CLIENT_MESSAGE = 4096


def connect(event: Mapping[str, Any]) -> dict[str, Any]:
    """``$connect``: a 2xx lets the handshake finish; API Gateway refuses it with any other status."""
    context = event.get("requestContext") or {}
    token = ((event.get("queryStringParameters") or {}).get("token") or "").strip()
    try:
        principal = auth.authenticate({"authorization": f"Bearer {token}"} if token else {}, context)
    except ApiError as exc:
        return {"statusCode": exc.status}
    if principal is None:
        return {"statusCode": 401}
    store.open_connection(context["connectionId"], principal)
    count("WebSocketConnects")
    return {"statusCode": 200}


def disconnect(event: Mapping[str, Any]) -> dict[str, Any]:
    store.close_connection((event.get("requestContext") or {}).get("connectionId", ""))
    return {"statusCode": 200}


def message(event: Mapping[str, Any]) -> dict[str, Any]:
    """``$default``: every client message. Answers go back by ``post_to_connection``."""
    connection_id = (event.get("requestContext") or {}).get("connectionId", "")
    reply = _handle(connection_id, event.get("body") or "")
    if reply is not None:
        push.send(connection_id, reply)
    return {"statusCode": 200}


def _parse(body: str) -> dict[str, Any] | None:
    if len(body) > MAX_CLIENT_MESSAGE:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the parser's depth
        return None
    return data if isinstance(data, dict) else None


def _echo(ident: str) -> str:
    """The id as the reply may repeat it: short, and valid UTF-8 (JSON lets a client send a lone
    surrogate, which no frame can carry back)."""
    return ident[:64].encode("utf-8", "replace").decode("utf-8")


def _handle(connection_id: str, body: str) -> dict[str, Any] | None:
    data = _parse(body)
    if data is None:
        return error("bad_request", f"send a JSON object of at most {MAX_CLIENT_MESSAGE} bytes with an 'action'")
    action = data.get("action")
    if action not in ("ping", "subscribe", "unsubscribe"):
        return error("bad_request", "action must be 'subscribe', 'unsubscribe' or 'ping'")
    row = store.connection(connection_id)
    if row is None:
        return error("gone", "this connection has ended; connect again")
    if action == "ping":
        store.touch(row)
        return {"type": "pong"}
    named = [(field, kind) for field, kind in topics.FIELDS.items() if field in data]
    if len(named) != 1 or not isinstance(data[named[0][0]], str):
        return error("bad_request", "name exactly one of 'file_id' or 'task_id'")
    field, kind = named[0]
    ident = data[field]
    about = {field: _echo(ident)}
    if not is_id(ident):  # checked before any storage: nothing was ever subscribed under another key
        return error("not_found", f"no such {kind}", **about)
    topic = topics.topic(kind, ident)
    if action == "unsubscribe":
        store.unsubscribe(row, topic)
        return {"type": "unsubscribed", **about}
    if not topics.may_watch(store.principal_of(row), kind, ident):
        return error("not_found", f"no such {kind}", **about)
    outcome = store.subscribe(row, topic)
    if outcome is store.Subscribed.LIMIT:
        return error("too_many_subscriptions", "this connection watches as many files and tasks as it may; "
                     "unsubscribe from one first", **about)
    if outcome is store.Subscribed.GONE:
        return error("gone", "this connection has ended; connect again")
    return {"type": "subscribed", **about, **topics.snapshot(kind, ident)}

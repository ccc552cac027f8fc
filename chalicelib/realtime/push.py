"""Sending to WebSocket clients through API Gateway's management API (``post_to_connection``).

``publish(topic, message)`` is the one way to push: the files stream uses it for status and refer
messages, and any other capability may use it for its own topic (bulk uploads: ``task:<id>`` with
``{"type": "log", ...}`` and ``{"type": "progress", ...}``). It returns how many connections took
the message. A connection API Gateway no longer knows (``GoneException``) is forgotten with its
subscriptions; any other failure to one connection is logged and counted, never raised, so one bad
connection cannot hold up a stream shard (clients resync over REST after a reconnect).

The management client's endpoint comes from settings (``KADR_WS_MANAGEMENT_URL``), never from a
WebSocket event (aws/chalice #1991): the stream handler has no such event, and locally the gateway
speaks plain HTTP. So AWS and the local stack share this one code path.
"""
from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.observability import count, logger
from chalicelib.provider import current, settings
from chalicelib.realtime import store
from chalicelib.realtime.messages import encode

FANOUT_THREADS = 16


def _client() -> Any:
    url = settings().ws_management_url
    if not url:
        return None

    def make() -> Any:
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=5,
                        max_pool_connections=64)
        return current().connection.session.create_client(
            "apigatewaymanagementapi", region_name=settings().region, endpoint_url=url.rstrip("/"), config=config)

    return current().memo(("ws-management", url), make)


def _pool() -> ThreadPoolExecutor:
    return current().memo("ws-fanout", lambda: ThreadPoolExecutor(FANOUT_THREADS, thread_name_prefix="ws-push"))


def _post(client: Any, connection_id: str, data: bytes, topic: str | None = None) -> bool:
    """True if delivered; False if the connection is gone (then forgotten) or the post failed."""
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
        return True
    except client.exceptions.GoneException:
        store.close_connection(connection_id)
        if topic is not None:  # also when the connection's own row was already gone
            store.drop_subscription(topic, connection_id)
        count("WebSocketConnectionsPruned")
        return False
    except Exception as exc:  # noqa: BLE001 - one connection's failure must not stop the others
        logger().warning("post_to_connection failed", extra={"connection_id": connection_id, "error": repr(exc)})
        count("WebSocketPushFailed")
        return False


def send(connection_id: str, message: Mapping[str, Any]) -> bool:
    """One message to one connection (replies to a client's own action)."""
    client = _client()
    if client is None:
        logger().warning("KADR_WS_MANAGEMENT_URL is not set: nothing is pushed")
        return False
    return _post(client, connection_id, encode(message))


def publish(topic: str, message: Mapping[str, Any]) -> int:
    """Send ``message`` to every connection subscribed to ``topic`` (``file:<id>``, ``task:<id>``).

    Raises ``MessageTooLarge`` for a message over 32 KB (cut it first). Returns the number of
    connections that took it.
    """
    data = encode(message)
    connections = store.subscribers(topic)
    if not connections:
        return 0
    client = _client()
    if client is None:
        logger().warning("KADR_WS_MANAGEMENT_URL is not set: nothing is pushed")
        return 0
    if len(connections) == 1:
        delivered = int(_post(client, connections[0], data, topic))
    else:
        delivered = sum(_pool().map(lambda c: _post(client, c, data, topic), connections))
    count("WebSocketMessagesSent", delivered)
    return delivered

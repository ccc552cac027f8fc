"""Connections and subscriptions in the realtime table (see ``models``)."""
from __future__ import annotations

from enum import StrEnum

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import size

from chalicelib.auth import Principal
from chalicelib.provider import now, settings
from chalicelib.realtime.models import (
    CONNECTION_SK,
    ConnectionRow,
    SubscriptionRow,
    connection_pk,
    topic_pk,
)

MAX_CONNECTION_ID = 128


class Subscribed(StrEnum):
    OK = "ok"
    LIMIT = "limit"  # the connection watches as many topics as it may
    GONE = "gone"    # the connection is unknown or has ended


def _idle_end(row: ConnectionRow, at: float) -> float:
    return min(float(row.ends_at), at + settings().ws_idle_timeout)


def open_connection(connection_id: str, principal: Principal) -> ConnectionRow:
    at = now()
    ends = at + settings().ws_connection_ttl
    row = ConnectionRow(connection_pk(connection_id), CONNECTION_SK, sub=principal.sub, role=principal.role,
                        connected_at=at, last_seen=at, ends_at=ends,
                        expires_at=min(ends, at + settings().ws_idle_timeout))
    row.save()
    return row


def connection(connection_id: str) -> ConnectionRow | None:
    """The live connection, or None (unknown, or past its end or idle limit)."""
    if not connection_id or len(connection_id) > MAX_CONNECTION_ID:
        return None
    try:
        row = ConnectionRow.get(connection_pk(connection_id), CONNECTION_SK, consistent_read=True)
    except ConnectionRow.DoesNotExist:
        return None
    return row if float(row.expires_at) > now() else None


def principal_of(row: ConnectionRow) -> Principal:
    return Principal(sub=row.sub, role=row.role)


def _alive() -> object:
    return ConnectionRow.pk.exists() & (ConnectionRow.expires_at > now())


def touch(row: ConnectionRow) -> bool:
    """A message from the client: the idle limit starts again."""
    at = now()
    try:
        row.update(actions=[ConnectionRow.last_seen.set(at), ConnectionRow.expires_at.set(_idle_end(row, at))],
                   condition=_alive())
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def subscribe(row: ConnectionRow, topic: str) -> Subscribed:
    """Bounded: at most ``ws_max_subscriptions`` topics per connection (a repeat is free)."""
    at = now()
    room = (ConnectionRow.topics.does_not_exist() | (size(ConnectionRow.topics) < settings().ws_max_subscriptions)
            | ConnectionRow.topics.contains(topic))
    try:
        row.update(actions=[ConnectionRow.topics.add({topic}), ConnectionRow.last_seen.set(at),
                            ConnectionRow.expires_at.set(_idle_end(row, at))], condition=_alive() & room)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        fresh = connection(row.pk.removeprefix("conn#"))
        return Subscribed.GONE if fresh is None else Subscribed.LIMIT
    # Written after the connection lists it, so closing the connection always finds it.
    SubscriptionRow(topic_pk(topic), row.pk.removeprefix("conn#"), expires_at=row.ends_at).save()
    return Subscribed.OK


def drop_subscription(topic: str, connection_id: str) -> None:
    SubscriptionRow(topic_pk(topic), connection_id).delete()


def unsubscribe(row: ConnectionRow, topic: str) -> None:
    connection_id = row.pk.removeprefix("conn#")
    drop_subscription(topic, connection_id)
    try:
        row.update(actions=[ConnectionRow.topics.delete({topic})], condition=ConnectionRow.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def close_connection(connection_id: str) -> int:
    """Forget a connection and every subscription it had; returns how many. Safe to repeat."""
    if not connection_id or len(connection_id) > MAX_CONNECTION_ID:
        return 0
    try:
        row = ConnectionRow.get(connection_pk(connection_id), CONNECTION_SK, consistent_read=True)
    except ConnectionRow.DoesNotExist:
        return 0
    topics = sorted(row.topics or ())
    with SubscriptionRow.batch_write() as batch:
        for topic in topics:
            batch.delete(SubscriptionRow(topic_pk(topic), connection_id))
    row.delete()
    return len(topics)


def subscribers(topic: str) -> list[str]:
    """Connection ids watching ``topic`` whose connection has not ended."""
    at = now()
    return [r.sk for r in SubscriptionRow.query(topic_pk(topic), filter_condition=SubscriptionRow.expires_at > at,
                                                consistent_read=True)]

"""The realtime table: a row per WebSocket connection and a row per (topic, connection).

``pk = "conn#<connection id>", sk = "conn"``: who connected, when, and the topics it watches
(bounded). ``pk = "topic#<topic>", sk = <connection id>``: one subscription; a push is one Query on
the topic's partition. Every row carries ``expires_at`` (TTL): API Gateway ends a connection after
2 hours, or 10 minutes without a message from the client. TTL deletes late (and moto never), so
readers filter on ``expires_at`` too.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from chalicelib import db
from chalicelib.provider import settings

CONNECTION_SK = "conn"


def connection_pk(connection_id: str) -> str:
    return f"conn#{connection_id}"


def topic_pk(topic: str) -> str:
    return f"topic#{topic}"


class ConnectionRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().realtime_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=CONNECTION_SK)
    sub = UnicodeAttribute()
    role = UnicodeAttribute()
    connected_at = NumberAttribute()
    last_seen = NumberAttribute()
    ends_at = NumberAttribute()  # connected_at + 2 h: API Gateway's limit, never extended
    expires_at = NumberAttribute()  # min(ends_at, last_seen + 10 min): the TTL
    topics = UnicodeSetAttribute(null=True)


class SubscriptionRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().realtime_table

    pk = UnicodeAttribute(hash_key=True)  # topic#<topic>
    sk = UnicodeAttribute(range_key=True)  # the connection id
    expires_at = NumberAttribute()  # the connection's ends_at: a subscription never outlives it

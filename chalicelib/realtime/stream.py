"""The files table's stream → the status and refer messages of each changed file → its subscribers."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.provider import settings
from chalicelib.realtime import push, topics
from chalicelib.realtime.messages import file_messages


def handle(records: Iterable[Any]) -> int:
    """Chalice ``DynamoDBRecord``s in stream order; returns the deliveries made.

    A failure to read subscribers raises, and the batch is retried (the shard waits, so order
    holds); a failure to one connection does not (``push.publish``).
    """
    delivered = 0
    base_url = settings().public_base_url or settings().api_base_url
    for record in records:
        if record.event_name == "REMOVE":
            continue
        for message in file_messages(record.old_image, record.new_image, base_url):
            delivered += push.publish(topics.topic("file", message["file_id"]), message)
    return delivered

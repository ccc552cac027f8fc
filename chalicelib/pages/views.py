"""Exact view counting, off the request path.

A detail read sends one SQS message ``{"view_id", "page_id", "items"}``. The aggregator sums a
batch and writes, in one DynamoDB transaction per chunk, a receipt per view (put-if-absent) and
one ADD per item. A view whose receipt exists was counted before (SQS redelivery, a retried
batch, a retried send) and drops out; the transaction makes receipts and counts land together
or not at all, so a failed batch is retried by SQS without loss or double counting.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from chalicelib.ids import is_id, new_id
from chalicelib.observability import count, logger
from chalicelib.provider import client, current, now, settings

MAX_ACTIONS = 100  # DynamoDB's TransactWriteItems limit
RECEIPT_TTL = 7 * 24 * 3600  # far beyond SQS's 4-day default retention
_CONTENTION_RETRIES = 8


def record(page_id: str, item_ids: list[str]) -> None:
    """Enqueue one view of the page. A failed send is logged and metered, never fails the read."""
    if not item_ids:
        return
    body = json.dumps({"view_id": new_id(), "page_id": page_id, "items": item_ids},
                      separators=(",", ":"))
    try:
        client("sqs").send_message(QueueUrl=_views_queue_url(), MessageBody=body)
    except Exception:  # noqa: BLE001 - availability of reads beats one view; the metric alerts
        logger().exception("view not enqueued", extra={"page_id": page_id})
        count("ViewsNotEnqueued")


def _views_queue_url() -> str:
    return settings().views_queue_url or current().queue_url(settings().views_queue)


@dataclass(frozen=True)
class View:
    view_id: str
    page_id: str
    items: tuple[str, ...]


@dataclass
class Applied:
    views: int = 0
    duplicates: int = 0
    counter_writes: int = 0
    item_views: int = 0
    malformed: int = 0
    transactions: int = 0
    gone_items: set[tuple[str, str]] = field(default_factory=set)

    def add(self, other: "Applied") -> None:
        for name in ("views", "duplicates", "counter_writes", "item_views", "malformed", "transactions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.gone_items |= other.gone_items


def _parse(body: str) -> View | None:
    try:
        data = json.loads(body)
        view = View(str(data["view_id"]), str(data["page_id"]), tuple(str(i) for i in data["items"]))
    except (ValueError, KeyError, TypeError):
        return None
    ids_ok = all(is_id(x) for x in (view.view_id, view.page_id, *view.items))
    return view if ids_ok and len(view.items) <= settings().max_items_per_page else None


def _chunks(views: list[View]) -> list[list[View]]:
    """Group views so receipts plus distinct item counters stay within one transaction."""
    chunks: list[list[View]] = []
    current: list[View] = []
    keys: set[tuple[str, str]] = set()
    for view in views:
        new_keys = keys | {(view.page_id, i) for i in view.items}
        if current and len(current) + 1 + len(new_keys) > MAX_ACTIONS:
            chunks.append(current)
            current, new_keys = [], {(view.page_id, i) for i in view.items}
        current.append(view)
        keys = new_keys
    if current:
        chunks.append(current)
    return chunks


def _actions(views: list[View], totals: Counter[tuple[str, str]], expires: int) -> list[dict[str, Any]]:
    table = settings().pages_table
    receipts = [{"Put": {
        "TableName": table,
        "Item": {"pk": {"S": f"VIEW#{v.view_id}"}, "sk": {"S": "VIEW"}, "expires_at": {"N": str(expires)}},
        "ConditionExpression": "attribute_not_exists(pk)"}} for v in views]
    counters = [{"Update": {
        "TableName": table,
        "Key": {"pk": {"S": f"PAGE#{page_id}"}, "sk": {"S": f"ITEM#{item_id}"}},
        "UpdateExpression": "ADD #v :n",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": {"#v": "views"},
        "ExpressionAttributeValues": {":n": {"N": str(n)}}}} for (page_id, item_id), n in totals.items()]
    return receipts + counters


def _apply_chunk(views: list[View]) -> Applied:
    from botocore.exceptions import ClientError

    from chalicelib.db import dynamodb

    applied = Applied()
    contention = 0
    while views:
        totals = Counter((v.page_id, i) for v in views for i in v.items if (v.page_id, i) not in applied.gone_items)
        keys = list(totals)
        try:
            dynamodb().transact_write_items(
                TransactItems=_actions(views, totals, int(now()) + RECEIPT_TTL))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            counted = {i for i, code in enumerate(reasons[:len(views)]) if code == "ConditionalCheckFailed"}
            gone = {keys[j] for j, code in enumerate(reasons[len(views):]) if code == "ConditionalCheckFailed"}
            if counted or gone:
                applied.duplicates += len(counted)
                applied.gone_items |= gone
                views = [v for i, v in enumerate(views) if i not in counted]
                continue
            contention += 1
            if contention > _CONTENTION_RETRIES:
                raise  # SQS redelivers the batch; receipts keep the retry exact
            time.sleep(min(2.0, 0.02 * 2 ** contention) * random.random())
            continue
        applied.views += len(views)
        applied.counter_writes += len(totals)
        applied.item_views += sum(totals.values())
        applied.transactions += 1
        break
    return applied


def apply(bodies: Iterable[str]) -> Applied:
    """Count a batch of view messages exactly once each."""
    parsed = [_parse(b) for b in bodies]
    applied = Applied(malformed=sum(1 for v in parsed if v is None))
    if applied.malformed:
        logger().warning("dropped malformed view messages", extra={"count": applied.malformed})
    unique = list({v.view_id: v for v in parsed if v is not None}.values())
    applied.duplicates += len([v for v in parsed if v is not None]) - len(unique)
    for chunk in _chunks(unique):
        applied.add(_apply_chunk(chunk))
    count("ViewsCounted", applied.views)
    count("ViewCounterWrites", applied.counter_writes)
    if applied.duplicates:
        count("ViewsDuplicate", applied.duplicates)
    return applied


def report_backlog() -> int:
    """Views waiting in the queue, as a metric: a growing backlog means counts lag behind reads."""
    attrs = client("sqs").get_queue_attributes(
        QueueUrl=_views_queue_url(),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    backlog = sum(int(v) for v in attrs.values())
    count("ViewsBacklog", backlog)
    return backlog


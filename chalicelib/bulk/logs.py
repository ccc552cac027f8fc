"""Task logs: every line its own item, in one gapless order per task, never a growing blob.

A line's sort key is its ``seq`` (1, 2, 3 ...). A writer puts line ``n + 1`` only after seeing
line ``n`` (it wrote it, or read it as the log's tail with a consistent Query), with the condition
that ``n + 1`` does not exist yet; a writer that loses the race reads the tail again and takes
the next number. So with any number of writers at once no line is lost or overwritten, the
numbers have no gaps, and a line that exists implies every smaller one does: a reader paging
with ``after=<seq>`` can never skip a line that shows up later. One conditional PutItem per line
(a Query more only after a lost race or in a new container).

Lines that come from the files stream carry their source event, ``<file>#<sequence>#<event>``,
and are written in one transaction with a marker item for that source: a redelivered stream
record finds the marker and writes nothing.

Each stored line also goes to the registered sinks (``add_sink``): the local stack's console
(in colour, ``infra/console.py``) and, once wired, the live channel.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.clock import iso
from chalicelib.db import dynamodb
from chalicelib.observability import logger
from chalicelib.provider import now, settings

LEVELS = ("info", "warning", "error")
MAX_MESSAGE = 1000  # characters; a line stays far below the 32 KB WebSocket frame
_ATTEMPTS = 60
_SEQ_WIDTH = 10

Sink = Callable[[str, dict[str, Any]], None]
_sinks: list[Sink] = []
_tails: dict[str, int] = {}  # task id -> the last seq this container wrote or read


@dataclass(frozen=True)
class Line:
    """A line to write: ``account`` None for a task-level line."""

    account: str | None
    level: str
    message: str
    file_id: str | None = None


def add_sink(sink: Sink) -> None:
    """``sink(task_id, line)`` for every line stored from now on (idempotent per sink)."""
    if sink not in _sinks:
        _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _sinks:
        _sinks.remove(sink)


def log_pk(task_id: str) -> str:
    return f"LOG#{task_id}"


def _sk(seq: int) -> str:
    return f"{seq:0{_SEQ_WIDTH}d}"


def _item(task_id: str, seq: int, line: Line, at: str) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": log_pk(task_id)}, "sk": {"S": _sk(seq)}, "seq": {"N": str(seq)},
                            "at": {"S": at}, "level": {"S": line.level},
                            "message": {"S": line.message[:MAX_MESSAGE]}}
    if line.account is not None:
        item["account"] = {"S": line.account}
    if line.file_id is not None:
        item["file_id"] = {"S": line.file_id}
    return item


def render(item: dict[str, Any]) -> dict[str, Any]:
    return {"seq": int(item["seq"]["N"]), "at": item["at"]["S"], "account": item.get("account", {}).get("S"),
            "level": item["level"]["S"], "message": item["message"]["S"],
            "file_id": item.get("file_id", {}).get("S")}


def _tail(task_id: str) -> int:
    found = dynamodb().query(TableName=settings().bulk_table, KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": log_pk(task_id)}}, ScanIndexForward=False,
                             Limit=1, ConsistentRead=True, ProjectionExpression="seq")["Items"]
    return int(found[0]["seq"]["N"]) if found else 0


def _emit(task_id: str, line: dict[str, Any]) -> None:
    for sink in list(_sinks):
        try:
            sink(task_id, line)
        except Exception:  # noqa: BLE001 - a sink (console, live push) never fails the write
            logger().exception("bulk log sink failed", extra={"task_id": task_id})


def append(task_id: str, line: Line, source: str | None = None) -> dict[str, Any] | None:
    """Store ``line`` as the task's next line; the stored line, or None when ``source`` was
    already written (a redelivered event)."""
    if line.level not in LEVELS:
        raise ValueError(f"unknown level {line.level!r}")
    ddb = dynamodb()
    table = settings().bulk_table
    marker_key = {"pk": {"S": f"SRC#{task_id}"}, "sk": {"S": source}} if source is not None else None
    if marker_key is not None and "Item" in ddb.get_item(TableName=table, Key=marker_key, ConsistentRead=True):
        return None  # a redelivered event: its line is written (no transaction needed to know)
    seq = _tails.get(task_id)
    if seq is None:
        seq = _tail(task_id)
    for attempt in range(_ATTEMPTS):
        item = _item(task_id, seq + 1, line, iso(now()))
        put = {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        try:
            if source is None:
                ddb.put_item(**put)
            else:
                marker = {**marker_key, "seq": {"N": str(seq + 1)}}
                ddb.transact_write_items(TransactItems=[
                    {"Put": put}, {"Put": {"TableName": table, "Item": marker,
                                           "ConditionExpression": "attribute_not_exists(pk)"}}])
        except ddb.exceptions.ConditionalCheckFailedException:
            pass  # someone else took seq + 1
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return None  # this event's line is already written
            if not reasons or reasons[0] not in ("ConditionalCheckFailed", "TransactionConflict", "None", None):
                raise
        else:
            if len(_tails) > 10_000:  # a long-lived container: forget old tasks (a miss costs one Query)
                _tails.clear()
            _tails[task_id] = seq + 1
            stored = render(item)
            _emit(task_id, stored)
            return stored
        time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
        seq = max(seq + 1, _tail(task_id))
    raise RuntimeError(f"could not append to the log of task {task_id} after {_ATTEMPTS} attempts")


def append_many(task_id: str, lines: list[Line]) -> list[dict[str, Any]]:
    """``append`` each line in order (a retry's or cancel's lines). Not batched: a transaction or
    a batch of lines can be seen partly by a concurrent Query (DynamoDB isolates transactions from
    writes, not multi-item reads), which would let a follower see ``n + 5`` before ``n + 1``."""
    return [line for line in (append(task_id, one) for one in lines) if line is not None]


def write_first(task_id: str, lines: list[Line]) -> None:
    """Lines 1..n of a task nobody else can know of yet (its creation): batched, unconditional.
    Written before the task row, so no other writer can be appending meanwhile."""
    at = iso(now())
    items = [_item(task_id, i + 1, line, at) for i, line in enumerate(lines)]
    batch_put(settings().bulk_table, items)
    _tails[task_id] = len(items)
    for item in items:
        _emit(task_id, render(item))


def batch_put(table: str, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, with the unprocessed items retried."""
    ddb = dynamodb()
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
        for attempt in range(10):
            left = ddb.batch_write_item(RequestItems={table: pending}).get("UnprocessedItems", {}).get(table)
            if not left:
                break
            pending = left
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
        else:
            raise RuntimeError("DynamoDB left items unprocessed after 10 attempts")


def read(task_id: str, *, account: str | None = None, level: str | None = None, after: int = 0,
         limit: int = 100) -> dict[str, Any]:
    """Lines after ``after`` in order, filtered by account (``""`` = task-level lines only) and
    minimum level; ``next`` is the seq to pass as ``after`` while more lines exist now. Only the
    gapless run from ``after + 1`` is returned: if a Query ever showed ``n + 1`` before ``n``
    (multi-item reads are not snapshots), the page ends before the gap."""
    wanted = set(LEVELS[LEVELS.index(level):]) if level else set(LEVELS)
    lines: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    expected = after + 1
    while True:
        kwargs: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = dynamodb().query(TableName=settings().bulk_table, ConsistentRead=True, Limit=500,
                                KeyConditionExpression="pk = :pk AND sk > :after",
                                ExpressionAttributeValues={":pk": {"S": log_pk(task_id)}, ":after": {"S": _sk(after)}},
                                **kwargs)
        items = page["Items"]
        for i, item in enumerate(items):
            line = render(item)
            if line["seq"] != expected:  # a line still being written: stop before it, read it next time
                return {"lines": lines, "next": str(expected - 1) if expected - 1 > after else None}
            expected += 1
            if line["level"] in wanted and (account is None or (line["account"] or "") == account):
                lines.append(line)
                if len(lines) == limit:
                    more = i + 1 < len(items) or "LastEvaluatedKey" in page
                    return {"lines": lines, "next": str(line["seq"]) if more else None}
        start = page.get("LastEvaluatedKey")
        if not start:
            return {"lines": lines, "next": None}


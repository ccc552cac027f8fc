"""Targeted fixes to moto 5.2.5's memory use and SQS costs, applied only by the local stack.

``MotoServer`` (infra/emulators.py) calls :func:`apply` before the server answers a request. The
app never imports this module: on AWS there is no moto, and the app's requests are the same either
way. The fixes change how moto stores and computes state, not what any API call answers.

1. **Weak instance tracking.** ``moto.core.common_models.BaseModel.__new__`` appends every model
   instance it ever creates to a class-level list ``instances_tracked``, which only
   ``/moto-api/reset`` empties. It is read by nothing but the ``/moto-api/data.json`` dashboard and
   S3's reset (which disposes of the keys it finds). So every DynamoDB ``Item`` ever built stays
   alive, including the throwaway copies moto makes: a deep copy of *every table a transaction
   touches* (see 2), of every item an UpdateItem changes, of every Query/Scan result. Also every
   SQS message (deleted or not) and every overwritten S3 key. Here the list becomes a
   :class:`WeakInstances` registry: the dashboard and S3's reset still see every *live* instance,
   and garbage is freed.

2. **Per-item undo for TransactWriteItems.** moto's ``transact_write_items`` begins with
   ``copy.deepcopy`` of every table the transaction names, to restore it if an action fails. That
   is O(table size) time and memory per transaction (the pages table holds every view receipt, so
   each counted batch copied all receipts so far), and with (1) each copy was kept forever:
   3,000 views took the stack from 208 MiB to 9 GB. The replacement keeps a copy of only the items
   the transaction writes (at most 100) and puts them back on failure, and drops the stream
   records the failed transaction appended. Transactions also take one lock, so two transactions
   never interleave (moto's server is threaded; DynamoDB isolates transactions from each other).
   Behaviour kept from moto: the same validations, ``CancellationReasons`` per action, and
   ``ReturnValuesOnConditionCheckFailure``.

3. **SQS work proportional to the backlog, with a large constant.** Every SendMessage computes
   all queue attributes (``queue.attributes``), which counts visible, delayed and in-flight
   messages by calling ``unix_time_millis()`` (two datetime constructions) per message; every
   *received* message checks its retention through ``get_queue_attributes``, which computes all
   attributes three times. Once a few thousand views wait in the queue (a burst, a slow machine),
   each pump batch costs seconds of CPU, sends slow down every detail read, and the backlog never
   drains. Here a message's visibility and delay read the clock once as a float, the retention
   check reads the queue's retention period directly, and ``get_queue_attributes`` computes the
   attributes once per call. Results are the same (the same UTC clock, the same numbers).

4. **A Query on the table (not an index) reads one partition.** moto's ``Table.query`` builds
   ``all_items()`` (every item of the table, sorted) and filters it by hash key. With a day's view
   receipts in the pages table, each uncached detail read took 1.5 s at 30k receipts, holding the
   GIL. Here such a query runs moto's own code over just that partition. Index queries and scans
   are untouched (they do scan the whole table, like moto always did).

5. **Atomic conditional writes.** PutItem, UpdateItem and DeleteItem take the transactions' lock
   (re-entrant), so a condition check and its write are one step, as in DynamoDB: without it, two
   racing status moves on the threaded server could both pass ``status = :expected``.

6. **Stream iterators are bounded and expire.** Every ``GetRecords`` makes a new shard iterator,
   which moto keeps forever in ``shard_iterators``: the local stream pump polls a few times a
   second, so hours of polling left hundreds of thousands behind. Here the oldest iterators beyond
   ``MAX_SHARD_ITERATORS`` are dropped, and an unknown or dropped iterator answers
   ``ExpiredIteratorException`` (400), as DynamoDB Streams does for an iterator past its 15
   minutes (moto raised a KeyError, a 500).

Checked against moto 5.2.5 (pinned in requirements-dev.txt); :func:`apply` refuses other versions,
because (2) and the SQS attribute call in (3) replace moto methods whose bodies they mirror.
"""
from __future__ import annotations

import copy
import functools
import threading
import time
import weakref
from typing import Any, Callable, Iterator

MOTO_VERSION = "5.2.5"
_applied = False
_apply_lock = threading.Lock()
# One lock for every DynamoDB write (re-entrant: a transaction's actions are writes too). moto's
# server is threaded and its conditional writes check, then write, without a lock: two racing
# movers could both pass a condition. DynamoDB makes each conditional write atomic.
_write_lock = threading.RLock()


class WeakInstances:
    """Stands in for moto's ``instances_tracked`` list: ``append`` and iteration, weakly held."""

    __slots__ = ("_refs",)

    def __init__(self) -> None:
        self._refs: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()

    def append(self, instance: Any) -> None:
        try:
            self._refs[id(instance)] = instance
        except TypeError:  # a class without __weakref__ (slots): not tracked rather than kept forever
            pass

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._refs.values()))

    def __len__(self) -> int:
        return len(self._refs)


def _tracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    from moto.core.common_models import BaseModel

    instance = super(BaseModel, cls).__new__(cls)  # type: ignore[misc]
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, WeakInstances):
        # First instance of this class, or moto's reset_model_data() put a plain list back.
        tracked = WeakInstances()
        type.__setattr__(cls, "instances_tracked", tracked)
    tracked.append(instance)
    return instance


def _item_key(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Any, hash_value: Any, range_value: Any, old: Any) -> None:
    """Put ``old`` (an Item, or None for 'absent') back at its key."""
    if range_value is not None:
        partition = table.items[hash_value]
        if old is None:
            partition.pop(range_value, None)
            if not partition:
                table.items.pop(hash_value, None)
        else:
            partition[range_value] = old
    elif old is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = old


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's ``DynamoDBBackend.transact_write_items`` with per-item undo (see module doc)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed, MockValidationException, MultipleTransactionsException,
        TooManyTransactionsException, TransactionCanceledException, TransactWriteSingleOpException)
    from moto.dynamodb.comparisons import get_filter_expression

    if len(transact_items) > 100:
        raise TooManyTransactionsException()

    with _write_lock:
        undo: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, copy of the item before)
        stream_marks: dict[int, tuple[Any, int]] = {}  # id(shard) -> (shard, records before)

        def remember(table_name: str, key: dict[str, Any]) -> None:
            table = self.get_table(table_name)
            hash_value, range_value = _item_key(table, key)
            before = table.get_item(hash_value, range_value)
            undo.append((table, hash_value, range_value, copy.deepcopy(before)))
            shard = table.stream_shard
            if shard is not None and id(shard) not in stream_marks:
                stream_marks[id(shard)] = (shard, len(shard.items))

        def rollback() -> None:
            for table, hash_value, range_value, old in reversed(undo):
                _restore(table, hash_value, range_value, old)
            for shard, length in stream_marks.values():
                del shard.items[length:]

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                rollback()
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(condition_expression, expression_attribute_names,
                                                         expression_attribute_values)
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type != "ConditionCheck":
                    remember(table_name, key)
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], condition_expression=condition_expression,
                                  expression_attribute_names=expression_attribute_names,
                                  expression_attribute_values=expression_attribute_values)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, condition_expression=condition_expression,
                                     expression_attribute_names=expression_attribute_names,
                                     expression_attribute_values=expression_attribute_values)
                elif op_type == "Update":
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                     condition_expression=condition_expression,
                                     expression_attribute_names=expression_attribute_names,
                                     expression_attribute_values=expression_attribute_values)
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                rollback()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 - like moto: any other failure cancels with its name
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            rollback()
            raise TransactionCanceledException(errors)


def _message_visible(self: Any) -> bool:
    return time.time() * 1000.0 > self.visible_at


def _message_delayed(self: Any) -> bool:
    return time.time() * 1000.0 < self.delayed_until


def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)
    return retention_period + message.sent_timestamp / 1000 > time.time()


def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
    """moto 5.2.5's ``SQSBackend.get_queue_attributes``, computing ``queue.attributes`` once, not 3x per name."""
    from moto.sqs.exceptions import InvalidAttributeName

    queue = self.get_queue(queue_name)
    if not attribute_names:
        return {}
    valid_names = ["All"] + queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
    invalid_name = next((name for name in attribute_names if name not in valid_names), None)
    if invalid_name or invalid_name == "":
        raise InvalidAttributeName(invalid_name)
    every = queue.attributes
    if "All" in attribute_names:
        return every
    return {name: every[name] for name in attribute_names if every.get(name) is not None}


class _OnePartition:
    """A table as moto's ``query`` sees it, but ``all_items()`` holds only one partition."""

    def __init__(self, table: Any, rows: list[Any]) -> None:
        self._table = table
        self._rows = rows

    def all_items(self) -> list[Any]:
        return sorted(self._rows, key=lambda x: x.range_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


_moto_query: Any = None


def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name is None and hash_key is not None and self.range_key_attr:
        partition = self.items.get(hash_key) or {}  # .get: the defaultdict must not grow
        return _moto_query(_OnePartition(self, list(partition.values())), hash_key, *args, **kwargs)
    return _moto_query(self, hash_key, *args, **kwargs)


def _serialized(write: Callable[..., Any]) -> Callable[..., Any]:
    """A moto write that runs alone, so its condition check and its write are one step."""
    @functools.wraps(write)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            return write(self, *args, **kwargs)

    return locked


MAX_SHARD_ITERATORS = 1000


def get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
    from moto.core.exceptions import JsonRESTError

    iterators = self.shard_iterators
    shard_iterator = iterators.get(iterator_arn)
    if shard_iterator is None:
        raise JsonRESTError("ExpiredIteratorException", "Iterator expired or unknown")
    result = shard_iterator.get(limit)
    while len(iterators) > MAX_SHARD_ITERATORS:
        iterators.pop(next(iter(iterators)))
    return result


def apply() -> None:
    """Install the fixes once per process. Raises if moto is not the version they were written for."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        import moto
        from moto.core import common_models
        from moto.dynamodb.models import DynamoDBBackend

        if moto.__version__ != MOTO_VERSION:
            raise RuntimeError(f"infra/moto_patches.py was written for moto {MOTO_VERSION}, found "
                               f"{moto.__version__}: check moto's BaseModel.__new__ and "
                               "DynamoDBBackend.transact_write_items, then update the patch")
        common_models.BaseModel.__new__ = staticmethod(_tracked_new)  # type: ignore[method-assign,assignment]
        for model in _all_models(common_models.BaseModel):
            tracked = model.__dict__.get("instances_tracked")
            weak = WeakInstances()
            for instance in tracked or ():
                weak.append(instance)
            type.__setattr__(model, "instances_tracked", weak)
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        for name in ("put_item", "update_item", "delete_item"):
            setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))

        global _moto_query
        from moto.dynamodb.models.table import Table

        _moto_query = Table.query
        Table.query = query  # type: ignore[method-assign]

        from moto.sqs.models import Message, SQSBackend

        Message.visible = property(_message_visible)  # type: ignore[method-assign,assignment]
        Message.delayed = property(_message_delayed)  # type: ignore[method-assign,assignment]
        SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
            is_message_valid_based_on_retention_period)
        SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]

        from moto.dynamodbstreams.models import DynamoDBStreamsBackend

        DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]
        _applied = True


def _all_models(base: type) -> Iterator[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _all_models(sub)

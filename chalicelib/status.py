"""Every status in Kadr, the moves allowed between them, and the one way to make a move.

A move is a conditional DynamoDB update on the row that holds the status: it succeeds only if
the row is still in the status the mover read, so a duplicate event or a racing mover changes
nothing, and nothing ever goes backwards. Each move also bumps the row's ``sequence`` and sets
``status_at``, in the same write.

Why the row itself carries the record of a move (and not a separate history row): one write
per move, no transaction, and the table's stream (NEW_AND_OLD_IMAGES) then shows every move as
one MODIFY record with the old and new status and the new sequence. DynamoDB Streams keep the
records of one item in order, so the live-status push can forward them as they come. The
sequence is one counter per file for every kind of event it will carry (status now, refer-key
events later), so a client can drop duplicates and see gaps.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Mapping, Protocol

from pynamodb.exceptions import UpdateError

from chalicelib.clock import iso
from chalicelib.errors import Conflict
from chalicelib.provider import now


class FileStatus(StrEnum):
    PENDING = "pending"        # record made, upload not complete
    PROCESSING = "processing"  # object stored and verified, refer key issued, analysis running
    READY = "ready"            # an analysis result is stored
    DB_READY = "db_ready"      # findings, comments and rating written and queryable
    ERROR = "error"            # failed, with a reason

    @property
    def label(self) -> str:
        """How people see it. ``pending`` is shown as ``--------``: the studio's own notation for
        a record whose upload has not completed (screenplay-rating notes)."""
        return "--------" if self is FileStatus.PENDING else self.value


FILE_MOVES: Mapping[FileStatus, frozenset[FileStatus]] = {
    FileStatus.PENDING: frozenset({FileStatus.PROCESSING, FileStatus.ERROR}),
    FileStatus.PROCESSING: frozenset({FileStatus.READY, FileStatus.ERROR}),
    FileStatus.READY: frozenset({FileStatus.DB_READY, FileStatus.ERROR}),
    FileStatus.DB_READY: frozenset({FileStatus.ERROR}),
    # A retry, not a step back: only the owner's re-issue of a refer key makes it, only from the
    # error "no analyzer picked it up" (refer.service.reissue checks the reason in the same
    # conditional write). The object is still stored; a new key starts a new attempt, and the
    # sequence keeps counting up, so no client ever sees an old state again.
    FileStatus.ERROR: frozenset({FileStatus.PROCESSING}),
}

MACHINES: Mapping[type[StrEnum], Mapping[Any, frozenset[Any]]] = {FileStatus: FILE_MOVES}


class BulkStatus(StrEnum):
    """A bulk task's and each of its accounts' status. Never stored: it is derived on every read
    from the items' file statuses (``chalicelib.bulk.progress``), so it cannot disagree with them
    and no concurrent update can lose a count. Not a machine of moves: a retry takes a
    ``partially_completed`` account back to ``running``."""

    PENDING = "pending"                          # nothing settled yet, no upload completed
    RUNNING = "running"                          # some items still pending, something happened
    COMPLETED = "completed"                      # every item stored and verified
    FAILED = "failed"                            # nothing succeeded (every item failed or cancelled)
    PARTIALLY_COMPLETED = "partially_completed"  # some succeeded, some failed or were cancelled


def bulk_status(pending: int, succeeded: int, failed: int, cancelled: int, started: bool) -> BulkStatus:
    """The status of a set of items from their counts (``started``: some upload completed)."""
    if pending:
        return BulkStatus.RUNNING if (started or succeeded or failed or cancelled) else BulkStatus.PENDING
    if succeeded and not (failed or cancelled):
        return BulkStatus.COMPLETED
    return BulkStatus.PARTIALLY_COMPLETED if succeeded else BulkStatus.FAILED


class MoveRefused(Conflict):
    """A move the table does not allow (e.g. backwards). As an HTTP answer, a 409."""

    code = "invalid_transition"


class Tracked(Protocol):
    """A PynamoDB row that holds a status: ``status``, ``sequence``, ``status_at``, ``updated_at``."""

    status: Any
    sequence: Any

    def update(self, actions: Any, condition: Any = None) -> Any: ...


def allowed(current: StrEnum, target: StrEnum) -> bool:
    return target in MACHINES[type(target)].get(current, frozenset())


def transition(row: Tracked, target: StrEnum, *, actions: list[Any] | None = None,
               condition: Any = None, events: int = 1) -> bool:
    """Move ``row`` from the status it was read with to ``target``; True if this call moved it.

    False when the row had already moved on (a duplicate or a lost race: nothing changed).
    ``MoveRefused`` when the table does not allow the move from the status read. ``events`` is
    how many events this write is (e.g. 2 when a refer key is issued with the move): the
    sequence takes one number per event, the status change first.
    """
    model = type(row)
    current = type(target)(row.status)
    if not allowed(current, target):
        if current == target:
            return False
        raise MoveRefused(f"a {model.__name__} cannot move from {current} to {target}",
                          {"from": str(current), "to": str(target)})
    guard = model.status == current.value
    if condition is not None:
        guard &= condition
    return guarded_update(row, [model.status.set(target.value), model.sequence.add(events),
                                model.status_at.set(iso(now())), *(actions or [])], guard)


def guarded_update(row: Tracked, actions: list[Any], condition: Any) -> bool:
    """A conditional update stamped with ``updated_at``; False when the condition no longer held."""
    model = type(row)
    try:
        row.update(actions=[*actions, model.updated_at.set(iso(now()))], condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise

"""Refer keys on the file row: issue, rotation timers, download (freeze and cap), re-issue.

Nothing here stores a key: the row holds the issue number, the times and the downloaders, and
``keys.mint`` derives the key of any window again. Every key event (issued, rotated, frozen,
expired) is written to the row with ``sequence + 1``, so the files table's stream carries it to
the live-status push, which derives the URL the same way.

Rotation events come from a chain of SQS delay messages (one per 90 s, at most 7 per issue, well
under Lambda's ~16-hop recursion stop); the key's validity never waits for them, it follows from
the clock. A lost timer is re-sent by a per-minute repair that reads only the sparse
``refer_timers`` index, i.e. the keys that still have an event to come.
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable

from pynamodb.expressions.condition import size

from chalicelib.auth import Principal
from chalicelib.clock import iso
from chalicelib.errors import ApiError, NotFound
from chalicelib.observability import count, logger
from chalicelib.provider import client, current, now, settings
from chalicelib.refer import keys, rules
from chalicelib.refer.rules import MAX_DOWNLOADERS, Refusal, ReferState
from chalicelib.status import FileStatus, guarded_update, transition
from chalicelib.uploads.models import REFER_DUE, FileRow
from chalicelib.uploads.objects import content_disposition

STORED = (FileStatus.PROCESSING.value, FileStatus.READY.value, FileStatus.DB_READY.value)
MAX_DELAY = 900  # SQS's longest message timer
REPAIR_LIMIT = 1000  # timers re-sent per repair run (a minute): bounds one run's Lambda time


class ReferGone(ApiError):
    status, code = 410, "refer_rotated"


class TooManyDownloaders(ApiError):
    status, code = 429, "too_many_downloaders"


def secret() -> bytes:
    return current().memo(("refer-secret", settings().token_secret), lambda: keys.subkey(settings().token_secret))


def fields(row: FileRow) -> rules.ReferFields:
    return rules.ReferFields(
        issue=int(row.refer_issue or 0), issued_at=row.refer_issued_at,
        frozen_window=None if row.refer_frozen_window is None else int(row.refer_frozen_window),
        frozen_at=row.refer_frozen_at, downloaders=len(row.refer_downloaders or ()))


def state(row: FileRow) -> rules.Current:
    return rules.current(fields(row), now(), settings().refer_download_window)


def key_of(row: FileRow, window: int) -> str:
    return keys.mint(secret(), keys.KeyParts(row.file_id, int(row.refer_issue), window))


def download_url(base_url: str, key: str) -> str:
    return f"{base_url}/download/{key}"


# ---------------------------------------------------------------- issue

def issue_actions(row: FileRow) -> list[Any]:
    """What a new issue writes (with the move to processing, or on the owner's re-issue)."""
    issued = now()
    return [FileRow.refer_issue.set(int(row.refer_issue or 0) + 1), FileRow.refer_issued_at.set(issued),
            FileRow.refer_frozen_window.remove(), FileRow.refer_frozen_at.remove(),
            FileRow.refer_downloaders.remove(), FileRow.refer_event.set("issued"), FileRow.refer_window.set(0),
            FileRow.refer_timer.set(REFER_DUE),
            FileRow.refer_due_at.set(rules.window_start(issued, 1))]


def issued(row: FileRow) -> None:
    """After an issue was written: start its timer chain."""
    count("ReferKeysIssued")
    _send_timer(row)


UNCLAIMED = "unclaimed"  # error_code of a file whose key expired with no download
UNCLAIMED_REASON = "no analyzer picked it up"


def reissue(row: FileRow) -> FileRow:
    """The owner's restart: a new key with its own 10 places; the old key dies at once. A file
    whose key expired unclaimed (error "no analyzer picked it up") goes back to ``processing``
    with the new key, in one conditional write."""
    if row.status == FileStatus.ERROR and row.error_code == UNCLAIMED:
        moved = transition(row, FileStatus.PROCESSING, events=2, condition=FileRow.error_code == UNCLAIMED,
                           actions=[*issue_actions(row), FileRow.error.remove(), FileRow.error_code.remove()])
        if not moved:
            raise ApiError("the file changed meanwhile; read it again", status=409, code="conflict")
        row.refresh(consistent_read=True)
        issued(row)
        return row
    if row.status not in STORED:
        raise ApiError(f"the file is not stored (status {row.status})", status=409, code="not_stored")
    moved = guarded_update(row, [*issue_actions(row), FileRow.sequence.add(1)],
                           (FileRow.refer_issue == int(row.refer_issue or 0)) & FileRow.status.is_in(*STORED))
    if not moved:
        raise ApiError("the key changed meanwhile; read it again", status=409, code="conflict")
    issued(row)
    return row


# ---------------------------------------------------------------- reading

def view(row: FileRow, base_url: str) -> dict[str, Any]:
    """The owner's view: the key that works now, its URL and times."""
    now_state = state(row)
    key = key_of(row, now_state.window) if now_state.window is not None else None
    return {"state": now_state.state.value, "key": key, "url": download_url(base_url, key) if key else None,
            "expires_at": iso(now_state.expires_at) if now_state.expires_at else None,
            "next_rotation_at": iso(now_state.next_rotation_at) if now_state.next_rotation_at else None,
            "downloaders": len(row.refer_downloaders or ()), "issue": int(row.refer_issue or 0)}


def summary(row: FileRow) -> dict[str, Any]:
    """What GET /files/{id} shows: never the key."""
    now_state = state(row)
    return {"state": now_state.state.value,
            "expires_at": iso(now_state.expires_at) if now_state.expires_at else None,
            "downloaders": len(row.refer_downloaders or ())}


# ---------------------------------------------------------------- download by key

def resolve(key: str) -> tuple[FileRow, keys.KeyParts]:
    parts = keys.parse(secret(), key)
    if parts is None:
        raise NotFound("no such refer key")
    try:
        row = FileRow.get(parts.file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        raise NotFound("no such refer key") from None
    if not row.refer_issue:
        raise NotFound("no such refer key")
    return row, parts


def ensure_analyzable(row: FileRow) -> None:
    if row.status not in STORED:
        raise ApiError(f"the file cannot be analyzed (status {row.status})", status=409, code="not_analyzable")


def _refuse(refusal: Refusal) -> ApiError:
    if refusal is Refusal.ROTATED:
        return ReferGone("this key was rotated out; ask the owner for the current one")
    if refusal is Refusal.EXPIRED:
        return ReferGone("this key has expired", code="refer_expired")
    return NotFound("no such refer key")


def claim(key: str, principal: Principal) -> FileRow:
    """Admit a downloader: the first download freezes the key; at most 10 distinct downloaders."""
    row, parts = resolve(key)
    ensure_analyzable(row)
    for _ in range(3):
        at = now()
        refusal = rules.check(fields(row), parts.issue, parts.window, at, settings().refer_download_window)
        if refusal:
            raise _refuse(refusal)
        if principal.sub in (row.refer_downloaders or ()):
            return row
        if row.refer_frozen_window is None and _freeze(row, parts, principal.sub, at):
            _send_timer(row)
            count("ReferKeysFrozen")
            return row
        if row.refer_frozen_window is not None and _join(row, parts, principal.sub, at):
            return row
        row.refresh(consistent_read=True)
        if (row.refer_frozen_window is not None and principal.sub not in (row.refer_downloaders or ())
                and len(row.refer_downloaders or ()) >= MAX_DOWNLOADERS and int(row.refer_issue) == parts.issue):
            raise TooManyDownloaders(f"this key already has {MAX_DOWNLOADERS} downloaders; the owner can "
                                     "issue a new key")
    raise ApiError("the key changed meanwhile; try again", status=409, code="conflict")


def _room(sub: str) -> Any:
    return (FileRow.refer_downloaders.does_not_exist() | FileRow.refer_downloaders.contains(sub)
            | (size(FileRow.refer_downloaders) < MAX_DOWNLOADERS))


def _freeze(row: FileRow, parts: keys.KeyParts, sub: str, at: float) -> bool:
    ends = at + settings().refer_download_window
    return guarded_update(row, [
        FileRow.refer_frozen_window.set(parts.window), FileRow.refer_frozen_at.set(at),
        FileRow.refer_downloaders.add({sub}), FileRow.refer_event.set("frozen"),
        FileRow.refer_window.set(parts.window), FileRow.sequence.add(1),
        FileRow.refer_timer.set(REFER_DUE), FileRow.refer_due_at.set(ends)],
        (FileRow.refer_issue == parts.issue) & (FileRow.refer_issued_at == row.refer_issued_at)
        & FileRow.refer_frozen_window.does_not_exist() & FileRow.status.is_in(*STORED) & _room(sub))


def _join(row: FileRow, parts: keys.KeyParts, sub: str, at: float) -> bool:
    return guarded_update(row, [FileRow.refer_downloaders.add({sub})],
                          (FileRow.refer_issue == parts.issue) & (FileRow.refer_frozen_window == parts.window)
                          & (FileRow.refer_frozen_at > at - settings().refer_download_window)
                          & FileRow.status.is_in(*STORED) & _room(sub))


def presigned_get(row: FileRow) -> str:
    return client("s3").generate_presigned_url("get_object", ExpiresIn=settings().download_url_ttl, Params={
        "Bucket": settings().media_bucket, "Key": row.object_key,
        "ResponseContentDisposition": content_disposition(row.filename)})


# ---------------------------------------------------------------- timers

def _timer_body(row: FileRow) -> dict[str, Any]:
    delay = min(MAX_DELAY, max(0, math.ceil(row.refer_due_at - now())))
    return {"MessageBody": json.dumps({"file_id": row.file_id, "issue": int(row.refer_issue), "due": row.refer_due_at}),
            "DelaySeconds": delay}


def _send_timers(rows: list[FileRow]) -> None:
    """One SQS message timer per row with an event to come, ten to a call."""
    entries = [_timer_body(row) for row in rows if row.refer_due_at is not None]
    url = current().queue_url(settings().refer_queue)
    for start in range(0, len(entries), 10):
        batch = [{"Id": str(i), **entry} for i, entry in enumerate(entries[start:start + 10])]
        failed = client("sqs").send_message_batch(QueueUrl=url, Entries=batch).get("Failed", [])
        if failed:  # the repair sweep would find them later; failing now lets SQS retry sooner
            raise RuntimeError(f"{len(failed)} refer timers were not sent: {failed[0].get('Code')}")


def _send_timer(row: FileRow) -> None:
    _send_timers([row])


def _timer(body: str) -> tuple[str, int, float] | None:
    try:
        data = json.loads(body)
        return str(data["file_id"]), int(data["issue"]), float(data["due"])
    except (ValueError, KeyError, TypeError):
        return None


def on_timer(bodies: Iterable[str]) -> dict[str, str]:
    """Announce the event that is due (a rotation or an expiry) and arm the next one. Idempotent:
    the write is conditional on the due time it announces, so a duplicate timer does nothing."""
    outcome: dict[str, str] = {}
    rearm: list[FileRow] = []
    for body in bodies:
        timer = _timer(body)
        if timer is None:
            logger().warning("malformed refer timer dropped")
            continue
        file_id, issue, due = timer
        outcome[file_id], row = _fire(file_id, issue, due)
        if row is not None:
            rearm.append(row)
    _send_timers(rearm)
    return outcome


def _fire(file_id: str, issue: int, due: float) -> tuple[str, FileRow | None]:
    """What happened, and the row whose next timer must be sent (if any)."""
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        return "gone", None
    if int(row.refer_issue or 0) != issue or row.refer_due_at is None or row.refer_due_at != due:
        return "stale", None  # re-issued, frozen or already announced: another timer owns what is due
    at = now()
    if at < due - 1:
        return "early", row  # a timer longer than SQS's 900 s, or clock skew: wait again
    now_state = rules.current(fields(row), at, settings().refer_download_window)
    if now_state.state is ReferState.ACTIVE:
        kind, window, next_due = "rotated", now_state.window, now_state.expires_at
    else:
        kind, window, next_due = "expired", row.refer_window, None
    actions = [FileRow.refer_event.set(kind), FileRow.refer_window.set(window), FileRow.sequence.add(1)]
    actions += ([FileRow.refer_due_at.set(next_due)] if next_due
                else [FileRow.refer_due_at.remove(), FileRow.refer_timer.remove()])
    if not guarded_update(row, actions, (FileRow.refer_issue == issue) & (FileRow.refer_due_at == due)):
        return "stale", None
    count("ReferKeysRotated" if kind == "rotated" else "ReferKeysExpired")
    if kind == "expired" and row.refer_frozen_window is None and row.status == FileStatus.PROCESSING:
        _unclaimed(row)
    return kind, row if next_due else None


def _unclaimed(row: FileRow) -> None:
    """The key expired and nobody downloaded it (a kind the built-in analyzer cannot read, and no
    external analyzer came): the file is in error until the owner issues a new key. Its object
    is kept for that."""
    if transition(row, FileStatus.ERROR, actions=[FileRow.error.set(UNCLAIMED_REASON),
                                                  FileRow.error_code.set(UNCLAIMED)],
                  condition=FileRow.refer_frozen_window.does_not_exist()):
        count("FilesUnclaimed")
        logger().info("refer key expired unclaimed", extra={"file_id": row.file_id})


def repair_timers(grace: float = 10.0) -> int:
    """Re-send the timer of every key whose event is overdue (its message was lost). Reads only
    the sparse index of keys with an event to come."""
    rows = list(FileRow.refer_timers.query(REFER_DUE, FileRow.refer_due_at <= now() - grace, limit=REPAIR_LIMIT))
    _send_timers(rows)
    overdue = len(rows)
    if overdue:
        logger().warning("re-sent lost refer timers", extra={"count": overdue})
        count("ReferTimersRepaired", overdue)
    return overdue

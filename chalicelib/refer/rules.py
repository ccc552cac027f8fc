"""When a refer key is valid: pure functions of the file row's refer fields and the time.

A key is issued at ``issued_at``; window ``w`` (its ``w``-th rotation) is current from
``issued_at + 90 w`` to ``issued_at + 90 (w + 1)``. Rotation ends 10 minutes after the issue
(the key then expires; the seventh key lives the remaining 60 s), or at the first download,
which freezes that window's key for a download window (10 minutes from the first download).
Expiry is decided here, at read time: DynamoDB TTL deletes late and moto never does.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ROTATION_SECONDS = 90
ROTATION_SPAN_SECONDS = 600
MAX_DOWNLOADERS = 10


class ReferState(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    FROZEN = "frozen"
    EXPIRED = "expired"


class Refusal(StrEnum):
    UNKNOWN = "unknown"    # 404: not a key of this file's current life
    ROTATED = "rotated"    # 410 refer_rotated
    EXPIRED = "expired"    # 410 refer_expired


@dataclass(frozen=True)
class ReferFields:
    """The refer fields of a file row (no key: keys are derived)."""

    issue: int
    issued_at: float | None
    frozen_window: int | None
    frozen_at: float | None
    downloaders: int


@dataclass(frozen=True)
class Current:
    state: ReferState
    window: int | None           # the window whose key works now (None: no key works)
    expires_at: float | None     # when that key stops working
    next_rotation_at: float | None


def window_start(issued_at: float, window: int) -> float:
    return issued_at + ROTATION_SECONDS * window


def current(fields: ReferFields, now: float, download_window: float) -> Current:
    if not fields.issue or fields.issued_at is None:
        return Current(ReferState.NONE, None, None, None)
    if fields.frozen_window is not None and fields.frozen_at is not None:
        ends = fields.frozen_at + download_window
        if now < ends:
            return Current(ReferState.FROZEN, fields.frozen_window, ends, None)
        return Current(ReferState.EXPIRED, None, ends, None)
    span_end = fields.issued_at + ROTATION_SPAN_SECONDS
    if now >= span_end:
        return Current(ReferState.EXPIRED, None, span_end, None)
    window = max(0, int((now - fields.issued_at) // ROTATION_SECONDS))
    rotation = window_start(fields.issued_at, window + 1)
    if rotation >= span_end:
        return Current(ReferState.ACTIVE, window, span_end, None)
    return Current(ReferState.ACTIVE, window, rotation, rotation)


def check(fields: ReferFields, issue: int, window: int, now: float, download_window: float) -> Refusal | None:
    """None if the key (issue, window) works now; else why not."""
    if issue > fields.issue or not fields.issue:
        return Refusal.UNKNOWN
    if issue < fields.issue:
        return Refusal.ROTATED  # the owner re-issued: the old key died at once
    now_state = current(fields, now, download_window)
    if fields.frozen_window is not None:
        if window > fields.frozen_window:
            return Refusal.UNKNOWN  # never published: rotation stopped before it
        if window < fields.frozen_window:
            return Refusal.ROTATED
        return Refusal.EXPIRED if now_state.state is ReferState.EXPIRED else None
    if now_state.state is ReferState.EXPIRED:
        return Refusal.EXPIRED
    assert now_state.window is not None
    if window < now_state.window:
        return Refusal.ROTATED
    if window > now_state.window:
        return Refusal.UNKNOWN
    return None

"""Time as a dependency: services read the provider's clock, so tests set time instead of sleeping."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""


class SystemClock:
    def now(self) -> float:
        return time.time()


class SettableClock:
    """A clock that moves only when told: rotation at 90 s or expiry at 10 min without sleeping."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, epoch: float) -> None:
        self._now = float(epoch)

    def advance(self, seconds: float) -> None:
        self._now += seconds


def iso(epoch: float) -> str:
    """The one time-stamp format of the API and the tables: UTC, milliseconds, ``Z``.

    Fixed width, so stamps sort as strings in index keys.
    """
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""What a run tells its user: a progress bar on a terminal, a line or two of plain text without
one, and the summary ``upload()`` returns (``kadr upload --json`` prints it).

Sizes and speeds are binary units throughout and say so (MiB, MiB/s).
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from kadr_cli.fileio import MiB

if TYPE_CHECKING:
    from kadr_cli.state import UploadState

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {mib_n}/{mib_total} MiB [{elapsed}<{remaining}, {mib_rate} MiB/s]"


class _NoBar:
    """Stands in for the bar where none is shown."""

    def advance_to(self, done: int) -> None:
        """Bytes sent so far this run (the bar started at the bytes already held)."""

    def close(self) -> None:
        pass


class _Bar(_NoBar):
    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.shown = 0

    def advance_to(self, done: int) -> None:
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        self.bar.close()


def _tqdm_bar(total: int, label: str, initial: int) -> _NoBar:
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()

    class MiBBar(tqdm):  # type: ignore[misc]
        """tqdm counting bytes but showing MiB and MiB/s (its own unit_scale says "MB/s")."""

        @property
        def format_dict(self) -> dict[str, Any]:
            values = super().format_dict
            rate, elapsed = values.get("rate"), values.get("elapsed")
            if not rate and elapsed:  # as tqdm does: the average when there is no recent rate
                rate = ((values.get("n") or 0) - (values.get("initial") or 0)) / elapsed
            values.update(mib_n=f"{(values.get('n') or 0) / MiB:.1f}",
                          mib_total=f"{(values.get('total') or 0) / MiB:.1f}",
                          mib_rate=f"{rate / MiB:.1f}" if rate else "?")
            return values

    return _Bar(MiBBar(total=total, initial=initial, desc=label, unit="B", file=sys.stderr, dynamic_ncols=True,
                       leave=False, mininterval=0.2, bar_format=BAR_FORMAT))


class Progress:
    """``mode`` True: always a bar (on stderr); False: nothing; None: a bar when both stdout and
    stderr are a terminal, else a plain line or two on stderr, so a log, a pipe or a CI run
    still says what is happening (the outcome goes to stdout either way)."""

    def __init__(self, mode: bool | None, log: Callable[[str], None]) -> None:
        self.mode = mode
        self.log = log

    def _terminal(self) -> bool:
        return self.mode if self.mode is not None else (sys.stdout.isatty() and sys.stderr.isatty())

    def note(self, message: str) -> None:
        """Say what a silent step is doing, where a bar would otherwise seem stuck."""
        if self._terminal():
            self.log(message)

    def plain(self, message: str) -> None:
        """A plain progress line, shown only when there is no terminal for a bar."""
        if self.mode is None and not self._terminal():
            self.log(message)

    def bar(self, total: int, label: str, initial: int = 0) -> _NoBar:
        """A bar of ``total`` bytes starting at ``initial`` (the parts already held), or a stand-in."""
        return _tqdm_bar(total, label, initial) if self._terminal() else _NoBar()


@dataclass
class RunStats:
    """What one run did, for its summary: counts, moments (time.monotonic) and timings."""

    started: float
    resumed: bool = False
    parts_sent: int = 0
    bytes_sent: int = 0
    parts_reused: int = 0
    completed_at: float = 0.0
    verified_at: float | None = None
    sign_calls: int = 0
    crc32_parts_computed: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Record how long the block took under ``name`` (only if it finished)."""
        mark = time.monotonic()
        yield
        self.timings[name] = time.monotonic() - mark

    def rate(self, elapsed: float | None) -> float | None:
        """MiB/s over ``elapsed`` seconds of this run's sent bytes."""
        if elapsed is None:
            return None
        return round(self.bytes_sent / MiB / elapsed, 2) if elapsed > 0 else 0.0


def summary(record: dict[str, Any], state: UploadState, stats: RunStats) -> dict[str, Any]:
    """The run's result for callers and ``--json`` (fields listed in docs/CLI.md)."""
    seconds, to_complete = time.monotonic() - stats.started, stats.completed_at - stats.started
    to_verified = None if stats.verified_at is None else stats.verified_at - stats.started
    return {
        "file_id": state.file_id,
        "status": record.get("status"),
        "verified": stats.verified_at is not None and record.get("status") not in ("pending", "error"),
        "filename": record.get("filename", Path(state.path).name),
        "size": state.size,
        "sha256": state.sha256 or record.get("sha256"),
        "kind": state.kind,
        "part_size": state.part_size,
        "part_count": state.part_count,
        "part_checksum": state.part_checksum,
        "bytes_sent": stats.bytes_sent,
        "parts_sent": stats.parts_sent,
        "parts_reused": stats.parts_reused,
        "resumed": stats.resumed,
        # the whole run; until S3 had assembled the object (complete returned); until the
        # server had verified it (null with wait=False / --no-wait)
        "seconds": round(seconds, 3),
        "seconds_to_complete": round(to_complete, 3),
        "seconds_to_verified": None if to_verified is None else round(to_verified, 3),
        "mib_per_s": stats.rate(seconds),
        "mib_per_s_to_complete": stats.rate(to_complete),
        "mib_per_s_to_verified": stats.rate(to_verified),
        "sign_calls": stats.sign_calls,
        "crc32_parts_computed": stats.crc32_parts_computed,
        # where the time went: create, parts, the background sha256 (overlaps the parts) and
        # how long complete waited for it, complete, the server's verification
        "timings": {k: round(v, 3) for k, v in stats.timings.items()},
    }

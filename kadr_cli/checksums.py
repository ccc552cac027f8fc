"""Checksums of the file: each part's CRC32 (S3 checks it as the part arrives) and the whole
file's sha256 (the server checks the stored object against it).

Both read through :func:`kadr_cli.fileio.read_range`; ``zlib.crc32`` and ``hashlib`` release
the GIL on buffers this size, so they run alongside the senders.
"""
from __future__ import annotations

import base64
import hashlib
import threading
import time
import zlib
from typing import Callable

from kadr_cli.errors import Cancelled, UploadError
from kadr_cli.fileio import MiB, read_range, thread_buffer

HASH_READ = 8 * MiB
CRC_CHUNK = 1 * MiB


def crc32_of_range(fd: int, offset: int, length: int, stop: threading.Event | None = None,
                   chunk: int = CRC_CHUNK) -> str:
    """base64 of the big-endian CRC32 of ``length`` bytes at ``offset`` (S3's
    x-amz-checksum-crc32), read ``chunk`` bytes at a time into this thread's buffer."""
    crc = 0
    for piece in read_range(fd, offset, length, thread_buffer("crc", chunk), stop):
        crc = zlib.crc32(piece, crc)
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


class BackgroundHash:
    """The whole file's sha256 in a daemon thread (sequential 8 MiB reads, one buffer) while the
    parts are sent, so nothing waits for it before the first byte goes out; ``result()`` waits."""

    def __init__(self, fd: int, size: int, stop: threading.Event) -> None:
        self.fd, self.size, self.stop = fd, size, stop
        self.digest: str | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._run, name="kadr-sha256", daemon=True)

    def start(self) -> BackgroundHash:
        self.thread.start()
        return self

    def done(self) -> bool:
        return not self.thread.is_alive()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            digest = hashlib.sha256()
            for chunk in read_range(self.fd, 0, self.size, memoryview(bytearray(HASH_READ)), self.stop):
                digest.update(chunk)
            self.digest = digest.hexdigest()
        except BaseException as exc:  # noqa: BLE001 - handed to result()
            self.error = exc
        finally:
            self.seconds = time.monotonic() - started

    def result(self) -> str:
        """The digest; a read error becomes a one-line UploadError."""
        while self.thread.is_alive():
            self.thread.join(timeout=0.2)  # short joins: Ctrl-C still gets through
        if self.error is not None:
            if isinstance(self.error, OSError):
                raise UploadError(f"reading the file for its sha256 failed: {self.error}") from None
            raise self.error
        assert self.digest is not None
        return self.digest


class PartChecksums:
    """Each part's CRC32, computed once and cached: by a prefetch thread that keeps at most
    ``lead`` parts ahead of the parts handed to the senders, or by whichever thread asks first
    (``get``). Thread-safe; a part being computed by one thread is waited for, not recomputed,
    so re-signing a part never reads it again."""

    def __init__(self, fd: int, part_size: int, part_length: Callable[[int], int], stop: threading.Event) -> None:
        self.fd, self.part_size, self.part_length, self.stop = fd, part_size, part_length, stop
        self.values: dict[int, str] = {}
        self.busy: dict[int, threading.Event] = {}
        self.lock = threading.Lock()
        self.computed = 0  # parts whose bytes were read for their CRC (each at most once)
        self.seconds = 0.0  # time spent computing, summed over threads
        self._dispatched = 0
        self._moved = threading.Condition()
        self.thread: threading.Thread | None = None

    def known_soon(self, n: int) -> bool:
        """Known, or being computed by some thread (``get`` then waits for it, not reads it)."""
        return n in self.values or n in self.busy

    def get(self, n: int) -> str:
        """The part's CRC32, computed here unless it is known or another thread is computing it."""
        while True:
            value = self._claim_or_wait(n, wait=True)
            if value is not None:
                return value

    def _claim_or_wait(self, n: int, wait: bool) -> str | None:
        with self.lock:
            if n in self.values:
                return self.values[n]
            other = self.busy.get(n)
            if other is None:
                self.busy[n] = mine = threading.Event()
        if other is not None:
            if wait:
                while not other.wait(0.2):
                    if self.stop.is_set():
                        raise Cancelled()
            return None
        return self._compute(n, mine)

    def _compute(self, n: int, mine: threading.Event) -> str:
        started = time.monotonic()
        try:
            value = crc32_of_range(self.fd, (n - 1) * self.part_size, self.part_length(n), self.stop)
        except BaseException:
            with self.lock:
                self.busy.pop(n, None)
            mine.set()  # a waiter tries again itself
            raise
        with self.lock:
            self.values[n] = value  # before the waiters wake
            self.busy.pop(n, None)
            self.computed += 1
            self.seconds += time.monotonic() - started
        mine.set()
        return value

    def dispatched(self) -> None:
        """A sender took the next part: the prefetcher may move one part further."""
        with self._moved:
            self._dispatched += 1
            self._moved.notify()

    def prefetch(self, order: list[int], lead: int) -> None:
        """Compute ``order``'s CRCs in a daemon thread, at most ``lead`` parts past the last one
        handed to a sender (the reads then stay close to the sends: on a file larger than the
        page cache, the sends find the bytes the CRC pass just read)."""

        def run() -> None:
            try:
                for i, n in enumerate(order):
                    with self._moved:
                        while i >= self._dispatched + lead and not self.stop.is_set():
                            self._moved.wait(0.5)
                    if self.stop.is_set():
                        return
                    self._claim_or_wait(n, wait=False)
            except BaseException:  # noqa: BLE001 - a sender computing the same part will report it
                return

        self.thread = threading.Thread(target=run, name="kadr-crc32", daemon=True)
        self.thread.start()

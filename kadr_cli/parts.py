"""Sending parts: a pool of worker threads, each PUTting one part at a time to its presigned
URL, streamed from the file, retried with backoff and re-signed after any failed attempt.

Results go back to the calling thread (:class:`WorkerPool.results`), which alone touches the
state file, the progress bar and the caller's callback.
"""
from __future__ import annotations

import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import requests

from kadr_cli.api import RetryPolicy, retry_after, short_reason
from kadr_cli.errors import Cancelled, UploadError, UploadGone
from kadr_cli.fileio import PartBody
from kadr_cli.signing import Signed, Signer


@dataclass
class PartDone:
    """What ``on_part_done`` gets after each part S3 accepted."""

    part_number: int
    size: int
    parts_sent: int
    bytes_sent: int
    parts_total: int


@dataclass(frozen=True)
class PartPlan:
    """The file cut as the server planned it: ``part_count`` parts of ``part_size`` bytes."""

    path: Path
    size: int
    fd: int
    part_size: int
    part_count: int

    def offset(self, n: int) -> int:
        """Where part ``n`` (1-based, like S3's part numbers) starts in the file."""
        return (n - 1) * self.part_size

    def part_length(self, n: int) -> int:
        """Part ``n``'s size: ``part_size``, except the last part."""
        return min(self.part_size, self.size - (n - 1) * self.part_size)


class WireCounter:
    """Bytes handed to sockets this run, from every worker (progress; failed attempts are
    taken back)."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.value += n


class _Failed(NamedTuple):
    """An attempt another attempt may fix: why, and how long to wait (None: the backoff)."""

    reason: str
    wait: float | None


def s3_error(response: requests.Response) -> tuple[str, str]:
    """S3's XML error as (code, message), with fallbacks for a body that isn't one."""
    text = response.text[:4000]
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else str(response.status_code),
            message.group(1) if message else (text[:200].strip() or response.reason or ""))


class PartSender:
    """PUTs one part per call of :meth:`send` (any thread): up to ``retry.attempts`` attempts,
    each with a fresh or freshly re-signed URL and a new stream of the part's bytes."""

    def __init__(self, session: requests.Session, signer: Signer, plan: PartPlan, *, retry: RetryPolicy,
                 timeout: tuple[float, float], stop: threading.Event, counter: WireCounter) -> None:
        self.session, self.signer, self.plan = session, signer, plan
        self.retry, self.timeout, self.stop, self.counter = retry, timeout, stop, counter

    def send(self, n: int) -> str:
        """Part ``n``'s ETag once S3 has it; UploadError when it can't be sent."""
        last = ""
        for attempt in range(self.retry.attempts):
            if self.stop.is_set():
                raise Cancelled()
            signed = self.signer.get(n)
            body = PartBody(self.plan.fd, self.plan.offset(n), self.plan.part_length(n), self.counter.add,
                            self.stop)
            outcome = self._attempt(n, signed, body, attempt)
            if isinstance(outcome, str):
                return outcome
            last = outcome.reason
            self.counter.add(-body.sent)
            if attempt + 1 < self.retry.attempts:
                if self.stop.wait(outcome.wait if outcome.wait is not None else self.retry.delay(attempt)):
                    raise Cancelled()
        raise UploadError(f"part {n} failed after {self.retry.attempts} attempts: {last}")

    def _attempt(self, n: int, signed: Signed, body: PartBody, attempt: int) -> str | _Failed:
        try:
            response = self.session.put(signed.url, data=body, headers=signed.headers, timeout=self.timeout)
        except Cancelled:
            raise
        except (requests.ConnectionError, requests.Timeout) as exc:
            if isinstance(exc.__context__, Cancelled) or self.stop.is_set():
                raise Cancelled() from None
            self.signer.invalidate(signed)  # the URL may have expired while S3 was refusing it
            return _Failed(f"connection failed ({short_reason(exc)})", None)
        if response.status_code == 200:
            etag = response.headers.get("ETag")
            if not etag:
                raise UploadError(f"S3 accepted part {n} but sent no ETag header (CORS must expose it)")
            return etag
        failed = self._judge(n, response)
        self.signer.invalidate(signed)
        if response.status_code == 403 and attempt == 0:
            return failed._replace(wait=0.0)  # an expired URL needs a new one, not a pause
        return failed

    def _judge(self, n: int, response: requests.Response) -> _Failed:
        """A refused PUT: retryable (403 expired URL, 408, 429, 5xx), or an UploadError."""
        status = response.status_code
        code, message = s3_error(response)
        if status == 403:
            return _Failed(f"S3 refused the URL: 403 {code}: {message}", None)
        if status >= 500 or status in (408, 429):
            return _Failed(f"S3 answered {status} {code}: {message}", retry_after(response))
        if status == 404 and code == "NoSuchUpload":
            raise UploadGone(f"S3 no longer has upload {self.signer.file_id} (aborted or expired)")
        if code in ("BadDigest", "InvalidDigest"):
            raise UploadError(f"S3 refused part {n}: {status} {code}: {message} (the part's bytes differ "
                              f"from the CRC32 computed before sending it: did the file change?)")
        raise UploadError(f"S3 refused part {n}: {status} {code}: {message}")


class WorkerPool:
    """``concurrency`` daemon threads taking part numbers from a queue and calling ``send`` on
    each. Used as a context manager: leaving it with an exception stops the workers and lets
    the parts in flight finish (S3 keeps them for the resume), except on Ctrl-C (no waiting:
    the state on disk is all a resume needs)."""

    def __init__(self, numbers: list[int], send: Callable[[int], str], concurrency: int,
                 stop: threading.Event, on_taken: Callable[[], None] | None = None) -> None:
        self.send, self.stop, self.on_taken = send, stop, on_taken
        self.expected = len(numbers)
        self._work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for n in numbers:
            self._work.put(n)
        self._results: queue.SimpleQueue[tuple[str, int, Any]] = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._worker, name=f"kadr-part-{i}", daemon=True)
                        for i in range(min(concurrency, len(numbers)))]

    def __enter__(self) -> WorkerPool:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            return
        interrupted = issubclass(kind, KeyboardInterrupt)
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=0.5 if interrupted else None)

    def _worker(self) -> None:
        while not self.stop.is_set():
            try:
                n = self._work.get_nowait()
            except queue.Empty:
                return
            if self.on_taken is not None:
                self.on_taken()
            try:
                self._results.put(("ok", n, self.send(n)))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                self._results.put(("error", n, exc))
                return

    def results(self) -> Iterator[tuple[int, str] | None]:
        """(part number, ETag) as each part finishes, None after 0.2 s without one (a tick for
        the caller's bookkeeping); a worker's error is raised here, on the calling thread."""
        done = 0
        while done < self.expected:
            try:
                kind, n, value = self._results.get(timeout=0.2)
            except queue.Empty:
                if not any(t.is_alive() for t in self.threads) and self._results.empty():
                    raise UploadError("every upload worker stopped unexpectedly") from None
                yield None
                continue
            if kind == "error":
                raise value
            done += 1
            yield n, value

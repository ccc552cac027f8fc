"""The upload engine: create the file record, PUT its parts in parallel to presigned S3 URLs,
complete, and (unless told not to) wait until the server has verified the stored object.

- One pooled ``requests.Session`` carries every call (API and S3), its HTTPAdapter pool sized to
  the concurrency; nothing is retried by urllib3, every retry is ours.
- Parts are streamed from the file with ``os.preadv`` in 1 MiB chunks while they are sent, so
  memory stays ~concurrency x 1 MiB whatever the part size or file size (no part is ever held
  whole, and the file never is).
- Part checksums: the upload is created with ``part_checksum: "crc32"``, so S3 checks every part
  it receives against the CRC32 signed into its URL. Each part's CRC32 is computed once (1 MiB
  reads, ``zlib.crc32`` outside the GIL) by a prefetch thread that runs a bounded distance ahead
  of the senders, or by the worker itself if it gets there first; values are cached, so a
  re-signed part is never re-read.
- URLs are signed on demand, each with its part's CRC32, in batches of upcoming parts whose
  CRC32 is known (or being computed), and re-signed when they are within ``refresh_margin``
  seconds of expiry (measured against the server's clock, from the signing response's ``Date``)
  or after a failed attempt (403 expired, connection error, 5xx).
- Each part is retried with exponential backoff and full jitter, ``attempts`` times in all.
- Resume: the state file (kadr_cli.state) names the file and upload; on restart the parts S3
  already holds (``GET /files/{id}/parts``) are reused and only the missing ones are sent.
- End to end: the file's sha256 is computed in a background thread (sequential 8 MiB reads)
  while the parts go out, declared on complete, and checked by the server against the stored
  object; the uploader waits for that verdict unless ``wait=False``.
"""
from __future__ import annotations

import base64
import hashlib
import math
import mimetypes
import os
import queue
import random
import re
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import requests
from requests.adapters import HTTPAdapter

from kadr_cli.errors import ServerError, UploadError, UploadGone
from kadr_cli.state import StateStore, UploadState

MiB = 1024 * 1024
HASH_READ = 8 * MiB
SEND_CHUNK = 1 * MiB
CRC_CHUNK = 1 * MiB
MAX_SIGN_BATCH = 100  # the API's limit per POST /files/{id}/parts

KINDS_BY_EXTENSION = {
    "screenplay": {".txt", ".docx", ".doc", ".pdf", ".fdx", ".fountain", ".rtf", ".odt"},
    "video": {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mxf", ".mpg", ".mpeg", ".ts", ".wmv"},
    "audio": {".mp3", ".wav", ".flac", ".aac", ".m4a", ".ogg", ".oga", ".opus", ".wma", ".aiff"},
    "subtitles": {".srt", ".vtt", ".ass", ".ssa", ".sub", ".ttml", ".dfxp", ".stl", ".sbv"},
}
EXTRA_TYPES = {".fdx": "application/xml", ".fountain": "text/plain", ".srt": "application/x-subrip",
               ".vtt": "text/vtt", ".ass": "text/x-ssa", ".ssa": "text/x-ssa", ".mkv": "video/x-matroska",
               ".webm": "video/webm", ".mxf": "application/mxf", ".flac": "audio/flac", ".m4a": "audio/mp4",
               ".aac": "audio/aac", ".wav": "audio/wav", ".opus": "audio/ogg", ".oga": "audio/ogg",
               ".ogg": "audio/ogg"}
# The API's answers that mean "this multipart upload can no longer take parts".
CLOSED_CODES = {"upload_closed", "upload_expired"}


def guess_kind(path: Path) -> str | None:
    ext = path.suffix.lower()
    return next((kind for kind, exts in KINDS_BY_EXTENSION.items() if ext in exts), None)


def guess_content_type(path: Path) -> str:
    ext = path.suffix.lower()
    return EXTRA_TYPES.get(ext) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def sha256_of(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """The whole file's sha256, read in 8 MiB blocks into one reused buffer."""
    digest = hashlib.sha256()
    buf = bytearray(HASH_READ)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
            if on_bytes:
                on_bytes(n)
    return digest.hexdigest()


_buffers = threading.local()


def _thread_buffer(name: str, size: int) -> memoryview:
    """One reusable buffer per thread and purpose: no allocation per chunk."""
    view = getattr(_buffers, name, None)
    if view is None or len(view) < size:
        view = memoryview(bytearray(size))
        setattr(_buffers, name, view)
    return view


def crc32_of_range(fd: int, offset: int, length: int, stop: threading.Event | None = None,
                   chunk: int = CRC_CHUNK) -> str:
    """base64 of the big-endian CRC32 of ``length`` bytes at ``offset`` (S3's x-amz-checksum-crc32),
    read in ``chunk``-sized preads into this thread's buffer."""
    buffer = _thread_buffer("crc", chunk)
    crc, position, end = 0, offset, offset + length
    while position < end:
        if stop is not None and stop.is_set():
            raise _Cancelled()
        got = os.preadv(fd, [buffer[:min(chunk, end - position)]], position)
        if not got:
            raise UploadError("the file got shorter while it was being uploaded")
        crc = zlib.crc32(buffer[:got], crc)  # releases the GIL on buffers this size
        position += got
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


class BackgroundHash:
    """The whole file's sha256 in a daemon thread (sequential 8 MiB preads, one reused buffer),
    while the parts are sent; ``result()`` waits for it."""

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
            buffer = memoryview(bytearray(HASH_READ))
            position = 0
            while position < self.size:
                if self.stop.is_set():
                    raise _Cancelled()
                got = os.preadv(self.fd, [buffer[:min(HASH_READ, self.size - position)]], position)
                if not got:
                    raise UploadError("the file got shorter while it was being uploaded")
                digest.update(buffer[:got])  # releases the GIL
                position += got
            self.digest = digest.hexdigest()
        except BaseException as exc:  # noqa: BLE001 - handed to result()
            self.error = exc
        finally:
            self.seconds = time.monotonic() - started

    def result(self) -> str:
        while self.thread.is_alive():
            self.thread.join(timeout=0.2)  # short joins: Ctrl-C still gets through
        if self.error is not None:
            if isinstance(self.error, OSError):
                raise UploadError(f"reading the file for its sha256 failed: {self.error}") from None
            raise self.error
        assert self.digest is not None
        return self.digest


# ---------------------------------------------------------------- retries

@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter: attempt k (0-based) waits U(0, min(cap, base * 2**k))."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 20.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * (2 ** attempt)))


class _Retryable(Exception):
    """One attempt failed in a way another attempt may fix."""


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


# ---------------------------------------------------------------- the API

class ApiClient:
    """The Kadr REST API over the shared session; Authorization goes only to the API host."""

    def __init__(self, base: str, token: str, session: requests.Session, retry: RetryPolicy,
                 timeout: tuple[float, float] = (10, 60), stop: threading.Event | None = None) -> None:
        self.base = base.rstrip("/")
        self.session = session
        self.retry = retry
        self.timeout = timeout
        self.stop = stop or threading.Event()
        self._auth = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
             ok: tuple[int, ...] = (200, 201, 204), also_retry: tuple[int, ...] = ()) -> requests.Response:
        """One API call, retried on connection errors, 5xx, 429 and ``also_retry`` (every call the
        uploader makes is safe to repeat: POST /files carries an Idempotency-Key, the rest are
        idempotent)."""
        last = ""
        for attempt in range(self.retry.attempts):
            wait: float | None = None
            try:
                response = self.session.request(method, self.base + path, json=json, timeout=self.timeout,
                                                headers={**self._auth, **(headers or {})})
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"cannot reach the API at {self.base}: {_short(exc)}"
            else:
                if response.status_code in ok:
                    return response
                if response.status_code >= 500 or response.status_code == 429 or response.status_code in also_retry:
                    last = f"{method} {path}: HTTP {response.status_code} {_error_text(response)}"
                    wait = _retry_after(response)
                else:
                    error = _server_error(response)
                    if isinstance(error, ServerError) and error.code in CLOSED_CODES:
                        raise UploadGone(f"the server closed this upload ({error.server_message})")
                    raise error
            if attempt + 1 < self.retry.attempts:
                if self.stop.wait(wait if wait is not None else self.retry.delay(attempt)):
                    break
        raise UploadError(f"{last} (gave up after {self.retry.attempts} attempts)")

    def json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        response = self.call(method, path, **kw)
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise UploadError(f"{method} {path}: the API answered HTTP {response.status_code} "
                              f"with a body that is not JSON") from None


def _short(exc: BaseException) -> str:
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] [^')\]]+|Connection (?:refused|reset|aborted)[^')\]]*|Read timed out",
                      text)
    return match.group(0) if match else (text[:200] or type(exc).__name__)


def _error_text(response: requests.Response) -> str:
    try:
        err = response.json()["error"]
        return f"{err.get('code', '')}: {err.get('message', '')}".strip(": ")
    except (ValueError, KeyError, TypeError):
        return response.text[:200].strip()


def _server_error(response: requests.Response) -> UploadError:
    try:
        err = response.json()["error"]
        return ServerError(response.status_code, str(err.get("code", "error")), str(err.get("message", "")),
                           err.get("details"))
    except (ValueError, KeyError, TypeError, AttributeError):
        body = response.text[:200].strip() or response.reason
        return UploadError(f"the API answered HTTP {response.status_code}: {body}")


def _s3_error(response: requests.Response) -> tuple[str, str]:
    text = response.text[:4000]
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else str(response.status_code),
            message.group(1) if message else (text[:200].strip() or response.reason or ""))


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- signing

@dataclass
class Signed:
    part_number: int
    url: str
    headers: dict[str, str]
    deadline: float  # time.monotonic() at which the URL expires


class PartChecksums:
    """Each part's CRC32, computed once and cached: by a prefetch thread that keeps at most
    ``lead`` parts ahead of the parts handed to the senders, or by whichever thread asks first
    (``get``). Thread-safe; a part being computed by one thread is waited for, not recomputed."""

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

    def ready(self, n: int) -> bool:
        return n in self.values

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
                        raise _Cancelled()
            return None
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


class Signer:
    """Presigned URLs on demand, a batch of upcoming parts per API call; thread-safe.

    With ``checksums``, every part is signed with its CRC32: the part asked for is checksummed
    first (outside the lock), and the batch takes the upcoming parts whose CRC32 is known or
    being computed right now (waiting for those is shorter than another signing call)."""

    def __init__(self, api: ApiClient, file_id: str, order: list[int], batch: int,
                 refresh_margin: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 checksums: PartChecksums | None = None) -> None:
        self.api = api
        self.file_id = file_id
        self.order = order
        self.index = {n: i for i, n in enumerate(order)}
        self.batch = max(1, min(MAX_SIGN_BATCH, batch))
        self.margin = refresh_margin
        self.clock = clock
        self.checksums = checksums
        self.urls: dict[int, Signed] = {}
        self.done: set[int] = set()
        self.lock = threading.Lock()
        self.calls = 0
        self.signed = 0

    def _fresh(self, signed: Signed | None) -> bool:
        return signed is not None and signed.deadline - self.clock() > self.margin

    def get(self, n: int) -> Signed:
        signed = self.urls.get(n)
        if self._fresh(signed):
            return signed  # type: ignore[return-value]
        crcs = self.checksums
        if crcs is not None:
            crcs.get(n)  # before the lock: other workers keep signing meanwhile
        with self.lock:
            signed = self.urls.get(n)
            if self._fresh(signed):
                return signed  # type: ignore[return-value]
            wanted = [n]
            for m in self.order[self.index.get(n, len(self.order)) + 1:]:
                if len(wanted) >= self.batch:
                    break
                if m not in self.done and not self._fresh(self.urls.get(m)) and (crcs is None or crcs.known_soon(m)):
                    wanted.append(m)
            self._sign(wanted)
            return self.urls[n]

    def _sign(self, numbers: list[int]) -> None:
        started = self.clock()
        body: dict[str, Any] = {"part_numbers": numbers}
        if self.checksums is not None:
            body["checksums"] = {str(m): self.checksums.get(m) for m in numbers}  # known or nearly: no reads here
        response = self.api.call("POST", f"/files/{self.file_id}/parts", json=body)
        try:
            parts = response.json()["parts"]
        except (ValueError, KeyError, TypeError):
            raise UploadError("POST /files/{id}/parts answered without a parts list") from None
        try:
            server_now = parsedate_to_datetime(response.headers["Date"])
        except (KeyError, TypeError, ValueError):
            server_now = datetime.now(timezone.utc)
        self.calls += 1
        for part in parts:
            try:
                lifetime = (_parse_time(part["expires_at"]) - server_now).total_seconds()
            except (KeyError, TypeError, ValueError):
                lifetime = 15 * 60
            number = int(part["part_number"])
            self.urls[number] = Signed(number, part["url"], dict(part.get("headers") or {}), started + lifetime)
            self.signed += 1
        missing = [m for m in numbers if m not in self.urls]
        if missing:
            raise UploadError(f"the API signed no URL for part(s) {missing[:5]}")

    def invalidate(self, signed: Signed) -> None:
        with self.lock:
            if self.urls.get(signed.part_number) is signed:
                del self.urls[signed.part_number]

    def finished(self, n: int) -> None:
        with self.lock:
            self.done.add(n)
            self.urls.pop(n, None)


# ---------------------------------------------------------------- sending

class PartBody:
    """A part of the file as a request body: read with os.preadv into the sending thread's
    buffer, 1 MiB at a time, each chunk handed to the socket before the next is read.

    Sized (``len``) so requests sends a Content-Length; iterable so urllib3 sends the chunks as
    they are read; re-creatable per attempt (nothing of the part is kept between attempts).
    """

    def __init__(self, fd: int, offset: int, length: int, on_bytes: Callable[[int], None],
                 stop: threading.Event, chunk: int = SEND_CHUNK) -> None:
        self.fd, self.offset, self.length, self.chunk = fd, offset, length, chunk
        self.on_bytes = on_bytes
        self.stop = stop
        self.sent = 0

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        position, end = self.offset, self.offset + self.length
        buffer = _thread_buffer("send", self.chunk)
        while position < end:
            if self.stop.is_set():
                raise _Cancelled()
            got = os.preadv(self.fd, [buffer[:min(self.chunk, end - position)]], position)
            if not got:
                raise UploadError("the file got shorter while it was being uploaded")
            position += got
            yield buffer[:got]  # sent (sendall) before the generator resumes and reuses the buffer
            self.sent += got
            self.on_bytes(got)


class _Cancelled(Exception):
    """Another part failed or the user interrupted: stop quietly."""


@dataclass
class PartDone:
    part_number: int
    size: int
    parts_sent: int
    bytes_sent: int
    parts_total: int


@dataclass
class _Job:
    path: Path
    size: int
    fd: int
    state: UploadState
    part_size: int
    part_count: int

    def part_length(self, n: int) -> int:
        return min(self.part_size, self.size - (n - 1) * self.part_size)


# ---------------------------------------------------------------- the uploader

class Uploader:
    """``Uploader(api, token).upload(path, kind=...)`` uploads one file and returns a summary.

    ``on_part_done(PartDone)`` is called on the calling thread after each part S3 accepted; an
    exception raised from it stops the upload like a crash would (in-flight parts finish, the
    state stays) and propagates, so a later ``upload`` of the same file resumes.
    """

    def __init__(self, api: str, token: str, *, concurrency: int = 8, state_dir: str | Path | None = None,
                 session: requests.Session | None = None, retry: RetryPolicy | None = None,
                 progress: bool | None = None, sign_batch: int | None = None, refresh_margin: float = 60.0,
                 poll_timeout: float = 120.0, poll_interval: float = 0.1, crc_lead: int | None = None,
                 timeout: tuple[float, float] = (10, 120), log: Callable[[str], None] | None = None) -> None:
        if concurrency < 1:
            raise UploadError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.session = session or make_session(concurrency)
        self.stop = threading.Event()
        self.api = ApiClient(api, token, self.session, self.retry, stop=self.stop)
        self.store = StateStore(Path(state_dir) if state_dir else None)
        self.progress = progress
        self.sign_batch = sign_batch or max(16, 4 * concurrency)
        # how many parts the CRC32 prefetcher may run past the last part handed to a sender
        self.crc_lead = crc_lead or 2 * max(1, min(MAX_SIGN_BATCH, self.sign_batch))
        self.refresh_margin = refresh_margin
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.log = log or (lambda message: print(f"kadr: {message}", file=sys.stderr))
        self.signer: Signer | None = None
        self.checksums: PartChecksums | None = None
        self.hasher: BackgroundHash | None = None
        self._resumed = False
        self.timings: dict[str, float] = {}
        self._sent_lock = threading.Lock()
        self._wire_bytes = 0  # bytes handed to sockets this run (progress; includes failed attempts)

    # ------------------------------------------------------------ public

    def upload(self, path: str | Path, *, kind: str | None = None, target_audience: str | None = None,
               content_type: str | None = None, on_part_done: Callable[[PartDone], None] | None = None,
               wait: bool = True) -> dict[str, Any]:
        """Upload ``path``; with ``wait`` (the default) return once the server has verified the
        stored object (status ``processing``; ``error`` raises), else right after complete."""
        started = time.monotonic()
        self.stop.clear()
        path = Path(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise UploadError(f"{path}: no such file") from None
        except OSError as exc:
            raise UploadError(f"{path}: {exc.strerror}") from None
        if not _is_regular(st.st_mode):
            raise UploadError(f"{path}: not a regular file")
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise UploadError(f"{path}: {exc.strerror}") from None
        kind = kind or guess_kind(path)
        if not kind:
            os.close(fd)
            raise UploadError(f"{path.name}: cannot tell the kind from the extension; pass --kind "
                              f"(screenplay, video, audio or subtitles)")
        real = str(path.resolve())
        key = self.store.key(self.api.base, real, kind, target_audience)
        try:
            self.store.lock(key)
            args = (key, fd, path, real, st, kind, target_audience, content_type or guess_content_type(path),
                    on_part_done, started, wait)
            try:
                return self._upload(*args)
            except UploadGone as exc:
                self._halt_helpers()
                self.store.delete(key)  # nothing left to resume
                if not self._resumed:
                    raise UploadGone(f"{exc}; run the same command again to start over") from None
                self.log(f"{exc}; starting over")
                return self._upload(*args)
            finally:
                self._halt_helpers()
                self.store.unlock(key)
        finally:
            os.close(fd)

    # ------------------------------------------------------------ steps

    def _upload(self, key: str, fd: int, path: Path, real: str, st: os.stat_result, kind: str,
                target_audience: str | None, content_type: str,
                on_part_done: Callable[[PartDone], None] | None, started: float, wait: bool) -> dict[str, Any]:
        self.stop.clear()
        self.timings = {}
        self.signer = self.checksums = self.hasher = None
        size = st.st_size
        state = self.store.load(key)
        resumed = self._resumed = False
        record: dict[str, Any] | None = None
        if state is not None and not state.same_file(size, st.st_mtime_ns):
            self.log(f"{path.name} changed since the interrupted upload; starting over")
            self._abandon(state)
            self.store.delete(key)
            state = None
        if state is not None and state.file_id:
            verdict = self._check_resumable(key, state)
            if isinstance(verdict, dict):
                # completed and verified before this run: nothing to send, nothing to wait for
                return self._summary(verdict, state, size, 0, 0, 0, started, resumed=True, completed_at=started,
                                     verified_at=started)
            if verdict:
                resumed = self._resumed = True
            else:
                state = None
        if state is None:
            state = UploadState(api=self.api.base, path=real, size=size, mtime_ns=st.st_mtime_ns, kind=kind,
                                target_audience=target_audience, idempotency_key=str(uuid.uuid4()))
        if not state.file_id:
            self.store.save(key, state)  # the Idempotency-Key is on disk before the file exists
            mark = time.monotonic()
            self._create(key, state, path, content_type)
            self.timings["create"] = time.monotonic() - mark
        job = _Job(path, size, fd, state, int(state.part_size or 0), int(state.part_count or 0))

        reused: dict[int, str] = {}
        sent_parts = sent_bytes = 0
        if not state.completed:
            if not state.sha256:  # else known from an earlier run of this upload
                self.hasher = BackgroundHash(fd, size, self.stop).start()
            if resumed:
                reused = self._held_parts(job)
            mark = time.monotonic()
            etags, sent_parts, sent_bytes = self._send_missing(key, job, reused, on_part_done)
            self.timings["parts"] = time.monotonic() - mark
            self._check_unchanged(path, st)
            mark = time.monotonic()
            if self.hasher is not None and not self.hasher.done():
                self._note("waiting for the file's sha256 ...")
            sha256 = self._file_sha256(key, state)
            self.timings["hash_wait"] = time.monotonic() - mark
            mark = time.monotonic()
            self._note("completing the upload ...")
            record = self._complete(key, job, {**reused, **etags}, sha256)
            self.timings["complete"] = time.monotonic() - mark
        completed_at = time.monotonic()
        if not wait:
            self.store.delete(key)  # done on our side; GET /files/{id} tells the verdict
            if record is None:
                record = self.api.json("GET", f"/files/{state.file_id}")
            return self._summary(record, state, size, sent_bytes, sent_parts, len(reused), started, resumed,
                                 completed_at=completed_at, verified_at=None)
        self._note("waiting for the server to check the stored file's size and sha256 ...")
        record = self._wait_verified(state)
        verified_at = time.monotonic()
        self.timings["verify"] = verified_at - completed_at
        self.store.delete(key)
        if record.get("status") == "error":
            reason = record.get("error") or "no reason given"
            raise UploadError(f"the server rejected the stored file {state.file_id}: {reason}")
        return self._summary(record, state, size, sent_bytes, sent_parts, len(reused), started, resumed,
                             completed_at=completed_at, verified_at=verified_at)

    def _halt_helpers(self) -> None:
        """Stop the background sha256 and CRC32 threads (they read the file descriptor the caller
        is about to close); they look at ``stop`` between reads."""
        helpers = [h for h in (self.hasher.thread if self.hasher else None,
                               self.checksums.thread if self.checksums else None) if h is not None]
        if any(h.is_alive() for h in helpers):
            self.stop.set()
            for thread in helpers:
                thread.join(timeout=5)

    def _file_sha256(self, key: str, state: UploadState) -> str:
        """The background hash's result, kept in the state (a resume needs not hash again)."""
        if self.hasher is not None:
            digest = self.hasher.result()
            self.timings["hash"] = self.hasher.seconds  # in the background, alongside the parts
            if digest != state.sha256:
                state.sha256 = digest
                self.store.save(key, state)
        if not state.sha256:
            raise UploadError("internal: no sha256 for the file")
        return state.sha256

    def _keep_hash(self, key: str, state: UploadState) -> None:
        """Once the background hash is done, write it to the state while the parts still go out."""
        hasher = self.hasher
        if hasher is not None and not state.sha256 and hasher.done() and hasher.digest:
            state.sha256 = hasher.digest
            self.store.save(key, state)

    def _check_resumable(self, key: str, state: UploadState) -> bool | dict[str, Any]:
        """True: resume this upload; False: forget it and start over; a dict: it is already done."""
        try:
            record = self.api.json("GET", f"/files/{state.file_id}")
        except ServerError as exc:
            if exc.status in (403, 404):
                self.log(f"the interrupted upload {state.file_id} is gone ({exc.server_message}); starting over")
                self.store.delete(key)
                return False
            raise
        status = record.get("status")
        if status == "pending":
            plan = record.get("upload")
            if isinstance(plan, dict):
                state.part_checksum = plan.get("part_checksum")  # the server's word, not ours
            if not plan and not state.completed:
                state.completed = True  # completed before the crash, not yet verified: just wait
                self.store.save(key, state)
            self.log(f"resuming upload {state.file_id}")
            return True
        if status == "error":
            self.store.delete(key)
            if not state.completed:  # aborted, or expired by the server's sweeper: nothing to keep
                self.log(f"the interrupted upload {state.file_id} was closed ({record.get('error')}); "
                         f"starting over")
                return False
            raise UploadError(f"the server rejected the stored file {state.file_id}: "
                              f"{record.get('error') or 'no reason given'} (run again to start over)")
        self.store.delete(key)
        return record

    def _abandon(self, state: UploadState) -> None:
        if state.file_id and not state.completed:
            try:
                self.api.call("DELETE", f"/files/{state.file_id}/upload")
            except UploadError:
                pass  # best effort: the bucket's lifecycle rule aborts it anyway

    def _create(self, key: str, state: UploadState, path: Path, content_type: str) -> None:
        # No sha256 here: it is computed while the parts go out and declared on complete.
        body: dict[str, Any] = {"filename": path.name, "size": state.size, "content_type": content_type,
                                "kind": state.kind, "part_checksum": "crc32"}
        if state.target_audience:
            body["target_audience"] = state.target_audience
        # 409: an earlier attempt with this key is still in progress on the server (a timeout here).
        record = self.api.json("POST", "/files", json=body, headers={"Idempotency-Key": state.idempotency_key},
                               ok=(200, 201), also_retry=(409,))
        try:
            upload = record["upload"]
            state.file_id = str(record["id"])
            state.upload_id = str(upload["upload_id"])
            state.part_size = int(upload["part_size"])
            state.part_count = int(upload["part_count"])
            state.part_checksum = upload.get("part_checksum")  # "crc32"; None from a server that ignores it
        except (KeyError, TypeError, ValueError):
            raise UploadError("POST /files answered without an id and an upload (upload_id, part_size, "
                              "part_count)") from None
        expected = math.ceil(state.size / state.part_size) if state.size else 1
        if state.part_size <= 0 or state.part_count != expected:
            raise UploadError(f"the server's part plan does not fit the file: {state.part_count} parts of "
                              f"{state.part_size} bytes for {state.size} bytes")
        self.store.save(key, state)

    def _held_parts(self, job: _Job) -> dict[int, str]:
        """Parts S3 already holds with the right size: part number -> ETag."""
        listing = self.api.json("GET", f"/files/{job.state.file_id}/parts")
        held: dict[int, str] = {}
        for part in listing.get("parts", []):
            try:
                n, etag, size = int(part["part_number"]), str(part["etag"]), int(part["size"])
            except (KeyError, TypeError, ValueError):
                continue
            if 1 <= n <= job.part_count and size == job.part_length(n) and etag:
                held[n] = etag
        return held

    def _send_missing(self, key: str, job: _Job, reused: dict[int, str],
                      on_part_done: Callable[[PartDone], None] | None) -> tuple[dict[int, str], int, int]:
        missing = [n for n in range(1, job.part_count + 1) if n not in reused]
        etags: dict[int, str] = {}
        if not missing:
            return etags, 0, 0
        held_bytes = sum(job.part_length(n) for n in reused)
        checksums = None
        if job.state.part_checksum == "crc32":
            self.checksums = checksums = PartChecksums(job.fd, job.part_size, job.part_length, self.stop)
            checksums.prefetch(missing, self.crc_lead)
        self.signer = signer = Signer(self.api, str(job.state.file_id), missing, self.sign_batch, self.refresh_margin,
                                      checksums=checksums)
        work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for n in missing:
            work.put(n)
        results: queue.SimpleQueue[tuple[str, int, Any]] = queue.SimpleQueue()
        self._wire_bytes = 0

        def worker() -> None:
            while not self.stop.is_set():
                try:
                    n = work.get_nowait()
                except queue.Empty:
                    return
                if checksums is not None:
                    checksums.dispatched()
                try:
                    results.put(("ok", n, self._send_part(job, signer, n)))
                except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                    results.put(("error", n, exc))
                    return

        threads = [threading.Thread(target=worker, name=f"kadr-part-{i}", daemon=True)
                   for i in range(min(self.concurrency, len(missing)))]
        bar = self._bar(job.size, job.path.name, initial=held_bytes)
        shown = 0
        parts_sent = bytes_sent = 0
        interrupted = False
        for thread in threads:
            thread.start()
        try:
            while len(etags) < len(missing):
                try:
                    kind, n, value = results.get(timeout=0.2)
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and results.empty():
                        raise UploadError("every upload worker stopped unexpectedly") from None
                    kind = ""
                if kind == "error":
                    raise value
                self._keep_hash(key, job.state)
                if kind == "ok":
                    etags[n] = value
                    signer.finished(n)
                    parts_sent += 1
                    bytes_sent += job.part_length(n)
                if bar is not None:
                    now = self._wire_bytes
                    bar.update(now - shown)
                    shown = now
                if kind == "ok" and on_part_done is not None:
                    on_part_done(PartDone(n, job.part_length(n), parts_sent, bytes_sent, job.part_count))
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            self.stop.set()
            # A crash or a failed part: let the parts in flight finish (S3 keeps them for the
            # resume). Ctrl-C: don't wait, the state on disk is all a resume needs.
            for thread in threads:
                thread.join(timeout=0.5 if interrupted else None)
            raise
        finally:
            if bar is not None:
                bar.close()
        if checksums is not None:
            self.timings["crc32"] = checksums.seconds  # summed over the threads that computed
        return etags, parts_sent, bytes_sent

    def _count(self, n: int) -> None:
        with self._sent_lock:
            self._wire_bytes += n

    def _send_part(self, job: _Job, signer: Signer, n: int) -> str:
        length = job.part_length(n)
        offset = (n - 1) * job.part_size
        last = ""
        for attempt in range(self.retry.attempts):
            if self.stop.is_set():
                raise _Cancelled()
            signed = signer.get(n)
            body = PartBody(job.fd, offset, length, self._count, self.stop)
            wait: float | None = None
            try:
                response = self.session.put(signed.url, data=body, headers=signed.headers, timeout=self.timeout)
            except _Cancelled:
                raise
            except (requests.ConnectionError, requests.Timeout) as exc:
                if isinstance(exc.__context__, _Cancelled) or self.stop.is_set():
                    raise _Cancelled() from None
                last = f"connection failed ({_short(exc)})"
                signer.invalidate(signed)  # the URL may have expired while S3 was refusing it
            else:
                status = response.status_code
                if status == 200:
                    etag = response.headers.get("ETag")
                    if not etag:
                        raise UploadError(f"S3 accepted part {n} but sent no ETag header (CORS must expose it)")
                    return etag
                code, message = _s3_error(response)
                if status == 403:
                    last = f"S3 refused the URL: 403 {code}: {message}"
                    signer.invalidate(signed)
                    wait = 0.0 if attempt == 0 else None  # an expired URL needs a new one, not a pause
                elif status >= 500 or status in (408, 429):
                    last = f"S3 answered {status} {code}: {message}"
                    wait = _retry_after(response)
                    signer.invalidate(signed)
                elif status == 404 and code == "NoSuchUpload":
                    raise UploadGone(f"S3 no longer has upload {job.state.file_id} (aborted or expired)")
                elif code in ("BadDigest", "InvalidDigest"):
                    raise UploadError(f"S3 refused part {n}: {status} {code}: {message} (the part's bytes differ "
                                      f"from the CRC32 computed before sending it: did the file change?)")
                else:
                    raise UploadError(f"S3 refused part {n}: {status} {code}: {message}")
            self._count(-body.sent)
            if attempt + 1 < self.retry.attempts:
                if self.stop.wait(wait if wait is not None else self.retry.delay(attempt)):
                    raise _Cancelled()
        raise UploadError(f"part {n} failed after {self.retry.attempts} attempts: {last}")

    def _check_unchanged(self, path: Path, before: os.stat_result) -> None:
        try:
            now = os.stat(path)
        except OSError as exc:
            raise UploadError(f"{path}: {exc.strerror} (while uploading)") from None
        if now.st_size != before.st_size or now.st_mtime_ns != before.st_mtime_ns:
            raise UploadError(f"{path} changed while it was being uploaded; run again to upload the new content")

    def _complete(self, key: str, job: _Job, etags: dict[int, str], sha256: str) -> dict[str, Any]:
        parts = [{"part_number": n, "etag": etags[n]} for n in range(1, job.part_count + 1) if n in etags]
        if len(parts) != job.part_count:
            raise UploadError(f"internal: {len(parts)} of {job.part_count} parts have an ETag")
        record = self.api.json("POST", f"/files/{job.state.file_id}/complete", json={"parts": parts, "sha256": sha256})
        job.state.completed = True
        self.store.save(key, job.state)
        return record

    def _wait_verified(self, state: UploadState) -> dict[str, Any]:
        """Poll GET /files/{id} until the server has checked the object (status leaves pending)."""
        deadline = time.monotonic() + self.poll_timeout
        interval = self.poll_interval
        while True:
            record = self.api.json("GET", f"/files/{state.file_id}")
            if record.get("status") != "pending":
                return record
            if time.monotonic() >= deadline:
                raise UploadError(f"file {state.file_id} is still pending {self.poll_timeout:.0f} s after "
                                  f"completing; run the same command again to keep waiting")
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.25, 1.0)  # one GET a second at most; the verdict is seen <= 1 s late

    # ------------------------------------------------------------ reporting

    def _showing(self) -> bool:
        return self.progress if self.progress is not None else sys.stderr.isatty()

    def _note(self, message: str) -> None:
        """Where a progress bar would show (a terminal), say what the silent steps are doing."""
        if self._showing():
            self.log(message)

    def _bar(self, total: int, label: str, initial: int = 0) -> Any:
        if self.progress is False:
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=total, initial=initial, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                    file=sys.stderr, dynamic_ncols=True, leave=False,
                    disable=None if self.progress is None else False, mininterval=0.2)

    def _summary(self, record: dict[str, Any], state: UploadState, size: int, bytes_sent: int, parts_sent: int,
                 parts_reused: int, started: float, resumed: bool, completed_at: float,
                 verified_at: float | None = None) -> dict[str, Any]:
        now = time.monotonic()
        seconds, to_complete = now - started, completed_at - started
        to_verified = None if verified_at is None else verified_at - started

        def rate(elapsed: float | None) -> float | None:
            if elapsed is None:
                return None
            return round(bytes_sent / MiB / elapsed, 2) if elapsed > 0 else 0.0

        return {
            "file_id": state.file_id,
            "status": record.get("status"),
            "verified": verified_at is not None and record.get("status") not in ("pending", "error"),
            "filename": record.get("filename", Path(state.path).name),
            "size": size,
            "sha256": state.sha256 or record.get("sha256"),
            "kind": state.kind,
            "part_size": state.part_size,
            "part_count": state.part_count,
            "part_checksum": state.part_checksum,
            "bytes_sent": bytes_sent,
            "parts_sent": parts_sent,
            "parts_reused": parts_reused,
            "resumed": resumed,
            # the whole run; until S3 had assembled the object (complete returned); until the
            # server had verified it (null with wait=False / --no-wait)
            "seconds": round(seconds, 3),
            "seconds_to_complete": round(to_complete, 3),
            "seconds_to_verified": None if to_verified is None else round(to_verified, 3),
            "mib_per_s": rate(seconds),
            "mib_per_s_to_complete": rate(to_complete),
            "mib_per_s_to_verified": rate(to_verified),
            "sign_calls": self.signer.calls if self.signer else 0,
            "crc32_parts_computed": self.checksums.computed if self.checksums else 0,
            # where the time went: create, parts, the background sha256 (overlaps the parts) and
            # how long complete waited for it, complete, the server's verification
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def make_session(concurrency: int) -> requests.Session:
    """One pooled session: enough kept-alive connections for every worker plus the API calls."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=concurrency + 4, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "kadr-cli/0.1"
    return session

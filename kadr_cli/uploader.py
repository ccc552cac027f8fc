"""The upload engine: create the file record, PUT its parts in parallel to presigned S3 URLs,
complete, and wait until the server has verified the stored object.

- One pooled ``requests.Session`` carries every call (API and S3), its HTTPAdapter pool sized to
  the concurrency; nothing is retried by urllib3, every retry is ours.
- Parts are streamed from the file with ``os.pread`` in 1 MiB chunks while they are sent, so
  memory stays ~concurrency x 1 MiB whatever the part size or file size (no part is ever held
  whole, and the file never is).
- URLs are signed on demand, in batches of upcoming parts, and re-signed when they are within
  ``refresh_margin`` seconds of expiry (measured against the server's clock, from the signing
  response's ``Date``) or after a failed attempt (403 expired, connection error, 5xx).
- Each part is retried with exponential backoff and full jitter, ``attempts`` times in all.
- Resume: the state file (kadr_cli.state) names the file and upload; on restart the parts S3
  already holds (``GET /files/{id}/parts``) are reused and only the missing ones are sent.
- End to end: the file's sha256 (streamed, 8 MiB reads) is declared on create; the server
  checks the stored object against it after complete, and the uploader waits for that verdict.
"""
from __future__ import annotations

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


class Signer:
    """Presigned URLs on demand, a batch of upcoming parts per API call; thread-safe."""

    def __init__(self, api: ApiClient, file_id: str, order: list[int], batch: int,
                 refresh_margin: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.file_id = file_id
        self.order = order
        self.index = {n: i for i, n in enumerate(order)}
        self.batch = max(1, min(MAX_SIGN_BATCH, batch))
        self.margin = refresh_margin
        self.clock = clock
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
        with self.lock:
            signed = self.urls.get(n)
            if self._fresh(signed):
                return signed  # type: ignore[return-value]
            wanted = [n]
            for m in self.order[self.index.get(n, len(self.order)) + 1:]:
                if len(wanted) >= self.batch:
                    break
                if m not in self.done and not self._fresh(self.urls.get(m)):
                    wanted.append(m)
            self._sign(wanted)
            return self.urls[n]

    def _sign(self, numbers: list[int]) -> None:
        started = self.clock()
        response = self.api.call("POST", f"/files/{self.file_id}/parts", json={"part_numbers": numbers})
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

_buffers = threading.local()


def _send_buffer(size: int) -> memoryview:
    """One reusable read buffer per sending thread: no allocation per chunk."""
    view = getattr(_buffers, "view", None)
    if view is None or len(view) < size:
        view = _buffers.view = memoryview(bytearray(size))
    return view


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
        buffer = _send_buffer(self.chunk)
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
                 poll_timeout: float = 120.0, poll_interval: float = 0.1,
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
        self.refresh_margin = refresh_margin
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.log = log or (lambda message: print(f"kadr: {message}", file=sys.stderr))
        self.signer: Signer | None = None
        self._resumed = False
        self.timings: dict[str, float] = {}
        self._sent_lock = threading.Lock()
        self._wire_bytes = 0  # bytes handed to sockets this run (progress; includes failed attempts)

    # ------------------------------------------------------------ public

    def upload(self, path: str | Path, *, kind: str | None = None, target_audience: str | None = None,
               content_type: str | None = None,
               on_part_done: Callable[[PartDone], None] | None = None) -> dict[str, Any]:
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
                    on_part_done, started)
            try:
                return self._upload(*args)
            except UploadGone as exc:
                self.store.delete(key)  # nothing left to resume
                if not self._resumed:
                    raise UploadGone(f"{exc}; run the same command again to start over") from None
                self.log(f"{exc}; starting over")
                return self._upload(*args)
            finally:
                self.store.unlock(key)
        finally:
            os.close(fd)

    # ------------------------------------------------------------ steps

    def _upload(self, key: str, fd: int, path: Path, real: str, st: os.stat_result, kind: str,
                target_audience: str | None, content_type: str,
                on_part_done: Callable[[PartDone], None] | None, started: float) -> dict[str, Any]:
        self.stop.clear()
        self.timings: dict[str, float] = {}
        size = st.st_size
        state = self.store.load(key)
        resumed = self._resumed = False
        if state is not None and not state.same_file(size, st.st_mtime_ns):
            self.log(f"{path.name} changed since the interrupted upload; starting over")
            self._abandon(state)
            self.store.delete(key)
            state = None
        if state is not None and state.file_id:
            verdict = self._check_resumable(key, state)
            if isinstance(verdict, dict):
                return self._summary(verdict, state, size, 0, 0, 0, started, resumed=True)
            if verdict:
                resumed = self._resumed = True
            else:
                state = None
        if state is None:
            state = UploadState(api=self.api.base, path=real, size=size, mtime_ns=st.st_mtime_ns, kind=kind,
                                target_audience=target_audience, idempotency_key=str(uuid.uuid4()))
        if not state.sha256:
            mark = time.monotonic()
            state.sha256 = self._hash(path, size)
            self.timings["hash"] = time.monotonic() - mark
            self.store.save(key, state)  # the Idempotency-Key is on disk before the file exists
        if not state.file_id:
            self._create(key, state, path, content_type)
        job = _Job(path, size, fd, state, int(state.part_size or 0), int(state.part_count or 0))

        reused: dict[int, str] = {}
        if not state.completed:
            if resumed:
                reused = self._held_parts(job)
            mark = time.monotonic()
            etags, sent_parts, sent_bytes = self._send_missing(job, reused, on_part_done)
            self.timings["parts"] = time.monotonic() - mark
            self._check_unchanged(path, st)
            mark = time.monotonic()
            self._note("completing the upload ...")
            self._complete(key, job, {**reused, **etags})
            self.timings["complete"] = time.monotonic() - mark
        else:
            sent_parts = sent_bytes = 0
        mark = time.monotonic()
        self._note("waiting for the server to check the stored file's size and sha256 ...")
        record = self._wait_verified(state)
        self.timings["verify"] = time.monotonic() - mark
        self.store.delete(key)
        if record.get("status") == "error":
            reason = record.get("error") or "no reason given"
            raise UploadError(f"the server rejected the stored file {state.file_id}: {reason}")
        return self._summary(record, state, size, sent_bytes, sent_parts, len(reused), started, resumed)

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
            if not record.get("upload") and not state.completed:
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

    def _hash(self, path: Path, size: int) -> str:
        bar = self._bar(size, f"sha256 {path.name}")
        try:
            return sha256_of(path, bar.update if bar else None)
        finally:
            if bar:
                bar.close()

    def _create(self, key: str, state: UploadState, path: Path, content_type: str) -> None:
        body: dict[str, Any] = {"filename": path.name, "size": state.size, "content_type": content_type,
                                "kind": state.kind, "sha256": state.sha256}
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

    def _send_missing(self, job: _Job, reused: dict[int, str],
                      on_part_done: Callable[[PartDone], None] | None) -> tuple[dict[int, str], int, int]:
        missing = [n for n in range(1, job.part_count + 1) if n not in reused]
        etags: dict[int, str] = {}
        if not missing:
            return etags, 0, 0
        held_bytes = sum(job.part_length(n) for n in reused)
        self.signer = signer = Signer(self.api, str(job.state.file_id), missing, self.sign_batch, self.refresh_margin)
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

    def _complete(self, key: str, job: _Job, etags: dict[int, str]) -> None:
        parts = [{"part_number": n, "etag": etags[n]} for n in range(1, job.part_count + 1) if n in etags]
        if len(parts) != job.part_count:
            raise UploadError(f"internal: {len(parts)} of {job.part_count} parts have an ETag")
        self.api.call("POST", f"/files/{job.state.file_id}/complete", json={"parts": parts})
        job.state.completed = True
        self.store.save(key, job.state)

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
            interval = min(interval * 1.5, 2.0)

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
                 parts_reused: int, started: float, resumed: bool) -> dict[str, Any]:
        seconds = time.monotonic() - started
        return {
            "file_id": state.file_id,
            "status": record.get("status"),
            "filename": record.get("filename", Path(state.path).name),
            "size": size,
            "sha256": state.sha256,
            "kind": state.kind,
            "part_size": state.part_size,
            "part_count": state.part_count,
            "bytes_sent": bytes_sent,
            "parts_sent": parts_sent,
            "parts_reused": parts_reused,
            "resumed": resumed,
            "seconds": round(seconds, 3),
            "mib_per_s": round(bytes_sent / MiB / seconds, 2) if seconds > 0 else 0.0,
            "sign_calls": self.signer.calls if self.signer else 0,
            # where the time went: hashing, sending parts, completing, the server's verification
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

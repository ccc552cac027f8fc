"""HTTP to the Kadr API: the pooled session, the retry policy, and the API's error answers
turned into one-line errors (:mod:`kadr_cli.errors`).

One ``requests.Session`` carries every call (API and S3), its HTTPAdapter pool sized to the
concurrency; nothing is retried by urllib3, every retry is ours.
"""
from __future__ import annotations

import math
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter

from kadr_cli.errors import ServerError, UploadError, UploadGone
from kadr_cli.state import UploadState

# The API's answers that mean "this multipart upload can no longer take parts".
CLOSED_CODES = {"upload_closed", "upload_expired"}


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter: attempt k (0-based) waits U(0, min(cap, base * 2**k))."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 20.0

    def delay(self, attempt: int) -> float:
        """Seconds before the next attempt; jitter keeps the workers' retries apart."""
        return random.uniform(0, min(self.cap, self.base * (2 ** attempt)))


def make_session(concurrency: int) -> requests.Session:
    """One pooled session: enough kept-alive connections for every worker plus the API calls."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=concurrency + 4, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "kadr-cli/0.1"
    return session


class ApiClient:
    """The Kadr REST API over the shared session; Authorization goes only to the API host."""

    def __init__(self, base: str, token: str, session: requests.Session, retry: RetryPolicy, *,
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
                last = f"cannot reach the API at {self.base}: {short_reason(exc)}"
            else:
                status = response.status_code
                if status in ok:
                    return response
                if status >= 500 or status == 429 or status in also_retry:
                    last = f"{method} {path}: HTTP {status} {_error_text(response)}"
                    wait = retry_after(response)
                else:
                    raise _server_error(response)
            if attempt + 1 < self.retry.attempts:
                if self.stop.wait(wait if wait is not None else self.retry.delay(attempt)):
                    break
        raise UploadError(f"{last} (gave up after {self.retry.attempts} attempts)")

    def json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        """``call`` whose answer must be JSON (an empty body is ``{}``)."""
        response = self.call(method, path, **kw)
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise UploadError(f"{method} {path}: the API answered HTTP {response.status_code} "
                              f"with a body that is not JSON") from None

    # ------------------------------------------------------------ the files endpoints

    def create_file(self, state: UploadState, filename: str, content_type: str) -> None:
        """POST /files under the state's Idempotency-Key; the server's id and part plan go into
        ``state``. No sha256: it is computed while the parts go out and declared on complete."""
        body: dict[str, Any] = {"filename": filename, "size": state.size, "content_type": content_type,
                                "kind": state.kind, "part_checksum": "crc32"}
        if state.target_audience:
            body["target_audience"] = state.target_audience
        # 409: an earlier attempt with this key is still in progress on the server (a timeout here).
        record = self.json("POST", "/files", json=body, headers={"Idempotency-Key": state.idempotency_key},
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

    def held_parts(self, file_id: str, part_count: int, part_length: Callable[[int], int]) -> dict[int, str]:
        """Parts S3 already holds with the right size (part number -> ETag): a resume reuses them."""
        held: dict[int, str] = {}
        for part in self.json("GET", f"/files/{file_id}/parts").get("parts", []):
            try:
                n, etag, size = int(part["part_number"]), str(part["etag"]), int(part["size"])
            except (KeyError, TypeError, ValueError):
                continue
            if 1 <= n <= part_count and size == part_length(n) and etag:
                held[n] = etag
        return held

    def complete(self, file_id: str, etags: dict[int, str], part_count: int, sha256: str) -> dict[str, Any]:
        """POST /files/{id}/complete with every part's ETag and the whole file's sha256."""
        parts = [{"part_number": n, "etag": etags[n]} for n in range(1, part_count + 1) if n in etags]
        if len(parts) != part_count:
            raise UploadError(f"internal: {len(parts)} of {part_count} parts have an ETag")
        return self.json("POST", f"/files/{file_id}/complete", json={"parts": parts, "sha256": sha256})

    def abort(self, file_id: str) -> None:
        """Best effort: the bucket's lifecycle rule aborts a stray multipart upload anyway."""
        try:
            self.call("DELETE", f"/files/{file_id}/upload")
        except UploadError:
            pass

    def wait_verified(self, file_id: str, timeout: float, interval: float) -> dict[str, Any]:
        """Poll GET /files/{id} until the server has checked the object (status leaves pending)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.json("GET", f"/files/{file_id}")
            if record.get("status") != "pending":
                return record
            if time.monotonic() >= deadline:
                raise UploadError(f"file {file_id} is still pending {timeout:.0f} s after "
                                  f"completing; run the same command again to keep waiting")
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.25, 1.0)  # one GET a second at most; the verdict is seen <= 1 s late


def retry_after(response: requests.Response) -> float | None:
    """The server's ``Retry-After`` in seconds, if it sent a number."""
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def short_reason(exc: BaseException) -> str:
    """The useful bit of a requests/urllib3 connection error (they nest several reprs)."""
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
    """The API's error shape as a ServerError (UploadGone for a closed upload); any other body
    as a plain UploadError with its first 200 characters."""
    try:
        err = response.json()["error"]
        error = ServerError(response.status_code, str(err.get("code", "error")), str(err.get("message", "")),
                            err.get("details"))
    except (ValueError, KeyError, TypeError, AttributeError):
        body = response.text[:200].strip() or response.reason
        return UploadError(f"the API answered HTTP {response.status_code}: {body}")
    if error.code in CLOSED_CODES:
        return UploadGone(f"the server closed this upload ({error.server_message})")
    return error

"""Presigned part URLs: signed on demand in batches of upcoming parts, each with its part's
CRC32, and re-signed near expiry or after a failed attempt.

Expiry is measured against the server's clock (the signing answer's ``Date``), so a skewed
client clock doesn't matter; a URL counts as stale ``refresh_margin`` seconds before it expires.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

from kadr_cli.api import ApiClient
from kadr_cli.checksums import PartChecksums
from kadr_cli.errors import UploadError

MAX_SIGN_BATCH = 100  # the API's limit per POST /files/{id}/parts
DEFAULT_LIFETIME = 15 * 60  # seconds, when the answer has no readable expires_at


@dataclass
class Signed:
    """A presigned PUT URL for one part, with the headers it was signed with."""

    part_number: int
    url: str
    headers: dict[str, str]
    deadline: float  # time.monotonic() at which the URL expires


def parse_time(value: str) -> datetime:
    """An ISO 8601 time from the API (``Z`` or an offset; naive means UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Signer:
    """Presigned URLs on demand, a batch of upcoming parts per API call; thread-safe.

    With ``checksums``, every part is signed with its CRC32: the part asked for is checksummed
    first (outside the lock), and the batch takes the upcoming parts whose CRC32 is known or
    being computed right now (waiting for those is shorter than another signing call)."""

    def __init__(self, api: ApiClient, file_id: str, order: list[int], *, batch: int,
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

    def _fresh(self, signed: Signed | None) -> bool:
        return signed is not None and signed.deadline - self.clock() > self.margin

    def get(self, n: int) -> Signed:
        """A URL for part ``n`` that stays valid for at least the margin, signed now if need be."""
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
            self._sign(self._batch_from(n))
            return self.urls[n]

    def _batch_from(self, n: int) -> list[int]:
        """``n`` and the next unfinished parts without a fresh URL (and, with checksums, whose
        CRC32 is known or being computed), up to the batch size."""
        wanted = [n]
        crcs = self.checksums
        for m in self.order[self.index.get(n, len(self.order)) + 1:]:
            if len(wanted) >= self.batch:
                break
            if m not in self.done and not self._fresh(self.urls.get(m)) and (crcs is None or crcs.known_soon(m)):
                wanted.append(m)
        return wanted

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
                lifetime = (parse_time(part["expires_at"]) - server_now).total_seconds()
            except (KeyError, TypeError, ValueError):
                lifetime = DEFAULT_LIFETIME
            number = int(part["part_number"])
            self.urls[number] = Signed(number, part["url"], dict(part.get("headers") or {}), started + lifetime)
        missing = [m for m in numbers if m not in self.urls]
        if missing:
            raise UploadError(f"the API signed no URL for part(s) {missing[:5]}")

    def invalidate(self, signed: Signed) -> None:
        """Drop a URL after a failed attempt, so the retry is freshly signed."""
        with self.lock:
            if self.urls.get(signed.part_number) is signed:
                del self.urls[signed.part_number]

    def finished(self, n: int) -> None:
        """Part ``n`` is in S3: never sign it again."""
        with self.lock:
            self.done.add(n)
            self.urls.pop(n, None)

"""Local resume state: one small JSON file per (API, file, kind) in the state directory.

It holds what a restarted upload needs to pick up where it stopped: the file id, the multipart
upload id, the part size the server chose, whether parts carry a CRC32 (``part_checksum``), the
whole file's sha256 once the background hash has finished (absent until then: a resume hashes
again) and a fingerprint of the local file (path, size, mtime) so a changed file is never
resumed. Which parts are already uploaded is not kept here: S3 is the source of truth
(``GET /files/{id}/parts``).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from kadr_cli.errors import UploadError

VERSION = 1


def default_dir() -> Path:
    """Per user, not per project: a resume works from whatever folder the command runs in."""
    return Path(os.environ.get("KADR_UPLOAD_STATE_DIR") or Path.home() / ".kadr" / "uploads")


@dataclass
class UploadState:
    """One upload's resume state, as saved (fields in the module docstring)."""

    api: str
    path: str
    size: int
    mtime_ns: int
    kind: str
    target_audience: str | None
    idempotency_key: str
    sha256: str | None = None
    file_id: str | None = None
    upload_id: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    part_checksum: str | None = None
    completed: bool = False
    version: int = VERSION

    def same_file(self, size: int, mtime_ns: int) -> bool:
        """The fingerprint matches: resuming can't mix bytes of two versions of the file."""
        return self.size == size and self.mtime_ns == mtime_ns


class StateStore:
    """Reads and writes state files atomically; a lock file keeps two runs off one upload
    while they run (it is removed when the run ends)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_dir()
        self._locks: dict[str, int] = {}

    def key(self, api: str, path: str, kind: str, target_audience: str | None) -> str:
        """One state per (API, file, kind, audience): the same file may go to two APIs."""
        raw = json.dumps([api, path, kind, target_audience])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def _file(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def _lock_file(self, key: str) -> Path:
        return self.root / f"{key}.lock"

    def lock(self, key: str) -> None:
        """Hold ``key``'s lock file (flock) until ``unlock``, or fail at once if another run
        holds it. The holder removes the file before releasing it, so a run that opened the
        file just before that finds its lock on a removed file, and tries the new one."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._lock_file(key)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise UploadError("another kadr upload of this file is running") from None
            try:
                current = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                current = False
            if current:
                self._locks[key] = fd
                return
            os.close(fd)

    def unlock(self, key: str) -> None:
        """Remove the lock file, then release it (closing releases the flock): none is left."""
        fd = self._locks.pop(key, None)
        if fd is not None:
            try:
                self._lock_file(key).unlink(missing_ok=True)
            finally:
                os.close(fd)

    def load(self, key: str) -> UploadState | None:
        """The saved state, or None when there is none or it is unreadable or of another version."""
        try:
            raw = json.loads(self._file(key).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable state is as good as none: the upload starts over
        if raw.get("version") != VERSION:
            return None
        known = set(UploadState.__dataclass_fields__)
        try:
            return UploadState(**{k: v for k, v in raw.items() if k in known})
        except TypeError:
            return None

    def save(self, key: str, state: UploadState) -> None:
        """Write through a temporary file and rename: a crash never leaves half a state."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self._file(key)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(state), out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)

    def delete(self, key: str) -> None:
        """Forget the upload (done, or nothing left to resume)."""
        self._file(key).unlink(missing_ok=True)

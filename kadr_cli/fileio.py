"""The local file: what it is (kind, content type), opening it, and the one range reader.

Every read of the file's bytes (part bodies, part CRC32s, the whole-file sha256) goes through
:func:`read_range`: ``os.preadv`` into a buffer the caller owns, so the reads need no shared
file position (several threads read one descriptor) and allocate nothing per chunk.
"""
from __future__ import annotations

import mimetypes
import os
import stat
import threading
from pathlib import Path
from typing import Callable, Iterator

from kadr_cli.errors import Cancelled, UploadError

MiB = 1024 * 1024
SEND_CHUNK = 1 * MiB

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


def guess_kind(path: Path) -> str | None:
    """The API's kind for the file's extension, so ``--kind`` is rarely needed."""
    ext = path.suffix.lower()
    return next((kind for kind, exts in KINDS_BY_EXTENSION.items() if ext in exts), None)


def guess_content_type(path: Path) -> str:
    """A MIME type the API accepts for the kind; ``mimetypes`` lacks several media types."""
    ext = path.suffix.lower()
    return EXTRA_TYPES.get(ext) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def open_regular(path: Path) -> tuple[int, os.stat_result]:
    """A read-only descriptor and the stat taken before opening (the resume fingerprint);
    anything but a readable regular file is a one-line UploadError."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UploadError(f"{path}: no such file") from None
    except OSError as exc:
        raise UploadError(f"{path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UploadError(f"{path}: not a regular file")
    try:
        return os.open(path, os.O_RDONLY), st
    except OSError as exc:
        raise UploadError(f"{path}: {exc.strerror}") from None


def check_unchanged(path: Path, before: os.stat_result) -> None:
    """Refuse to complete an upload of a file that changed while its parts were read."""
    try:
        now = os.stat(path)
    except OSError as exc:
        raise UploadError(f"{path}: {exc.strerror} (while uploading)") from None
    if now.st_size != before.st_size or now.st_mtime_ns != before.st_mtime_ns:
        raise UploadError(f"{path} changed while it was being uploaded; run again to upload the new content")


_buffers = threading.local()


def thread_buffer(name: str, size: int) -> memoryview:
    """This thread's reusable buffer for one purpose, exactly ``size`` bytes long: no allocation
    per chunk, and no two threads (or purposes) ever share one."""
    view = getattr(_buffers, name, None)
    if view is None or len(view) < size:
        view = memoryview(bytearray(size))
        setattr(_buffers, name, view)
    return view[:size]


def read_range(fd: int, offset: int, length: int, buffer: memoryview,
               stop: threading.Event | None = None) -> Iterator[memoryview]:
    """The ``length`` bytes at ``offset``, as successive slices of ``buffer`` (one ``preadv`` of
    at most ``len(buffer)`` bytes each). A slice is valid until the next one is read: use it
    first. Raises Cancelled once ``stop`` is set, UploadError if the file ends early."""
    position, end = offset, offset + length
    while position < end:
        if stop is not None and stop.is_set():
            raise Cancelled()
        got = os.preadv(fd, [buffer[:min(len(buffer), end - position)]], position)
        if not got:
            raise UploadError("the file got shorter while it was being uploaded")
        position += got
        yield buffer[:got]


class PartBody:
    """A part of the file as a request body, streamed through :func:`read_range` in 1 MiB chunks
    into the sending thread's buffer, each chunk handed to the socket before the next is read.

    Sized (``len``) so requests sends a Content-Length; iterable so urllib3 sends the chunks as
    they are read; re-created per attempt (nothing of the part is kept between attempts).
    """

    def __init__(self, fd: int, offset: int, length: int, on_bytes: Callable[[int], None],
                 stop: threading.Event) -> None:
        self.fd, self.offset, self.length = fd, offset, length
        self.on_bytes = on_bytes
        self.stop = stop
        self.sent = 0

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[memoryview]:
        buffer = thread_buffer("send", SEND_CHUNK)
        for chunk in read_range(self.fd, self.offset, self.length, buffer, self.stop):
            yield chunk  # sent (sendall) before the generator resumes and reuses the buffer
            self.sent += len(chunk)
            self.on_bytes(len(chunk))

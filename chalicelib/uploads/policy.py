"""What may be uploaded: content types per kind, size limits, and the part plan."""
from __future__ import annotations

import math

from chalicelib.errors import Unprocessable
from chalicelib.provider import settings

MAX_PARTS = 10_000
MIN_PART = 5 * 1024**2

CONTENT_TYPES: dict[str, frozenset[str]] = {
    "screenplay": frozenset({
        "text/plain", "application/pdf", "application/xml", "text/xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }),
    "video": frozenset({"video/mp4", "video/quicktime", "video/x-matroska", "video/webm", "video/mpeg",
                        "video/x-msvideo", "application/mxf"}),
    "audio": frozenset({"audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "audio/x-wav", "audio/flac",
                        "audio/ogg", "audio/webm"}),
    "subtitles": frozenset({"text/vtt", "application/x-subrip", "text/plain"}),
}


def check(kind: str, content_type: str, size: int) -> None:
    allowed = CONTENT_TYPES[kind]
    if content_type not in allowed:
        raise Unprocessable(f"a {kind} cannot be {content_type!r}", {"allowed": sorted(allowed)},
                            code="unsupported_content_type")
    limit = settings().max_file_size
    if size > limit:
        raise Unprocessable(f"the file is {size} bytes; the limit is {limit}", {"max_size": limit},
                            code="file_too_large")


def plan(size: int) -> tuple[int, int]:
    """Part size and count: the configured size, or larger so that 10,000 parts hold the file."""
    part_size = max(settings().part_size, MIN_PART, math.ceil(size / MAX_PARTS))
    return part_size, max(1, math.ceil(size / part_size))

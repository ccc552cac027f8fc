"""Where uploaded files live in the bucket, and how a download names them."""
from __future__ import annotations

from urllib.parse import quote

PREFIX = "uploads/"


def object_key(file_id: str) -> str:
    """Made from the server's id only, never from anything the user sent."""
    return f"{PREFIX}{file_id}"


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

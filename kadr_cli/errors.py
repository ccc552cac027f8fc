"""Errors the CLI reports as one line (``kadr: error: ...``)."""
from __future__ import annotations

from typing import Any


class UploadError(Exception):
    """A failure the user can act on; ``str()`` is the one-line message."""


class ServerError(UploadError):
    """The Kadr API answered with its error shape ``{"error": {"code", "message", "details"?}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        self.status, self.code, self.server_message, self.details = status, code, message, details
        super().__init__(f"{message} [HTTP {status} {code}]{_details(details)}")


class UploadGone(UploadError):
    """S3 no longer has the multipart upload (aborted, or expired by the bucket's lifecycle)."""


def _details(details: Any) -> str:
    if not details:
        return ""
    if isinstance(details, list):
        parts = []
        for d in details[:5]:
            if isinstance(d, dict) and "msg" in d:
                loc = ".".join(str(x) for x in d.get("loc", []) if x != "body")
                parts.append(f"{loc}: {d['msg']}" if loc else str(d["msg"]))
            else:
                parts.append(str(d))
        return ": " + "; ".join(parts)
    return f": {details}"


class Cancelled(Exception):
    """Another part failed or the user interrupted: a helper or worker stops quietly.

    Not an UploadError: it never reaches the user, the failure that caused it does."""

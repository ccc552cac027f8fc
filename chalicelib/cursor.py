"""Opaque pagination cursors: base64url JSON that the API made and can check."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.errors import BadRequest


def encode(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise invalid() from None


def invalid(message: str = "the cursor is not one this API made") -> BadRequest:
    return BadRequest(message, code="invalid_cursor")

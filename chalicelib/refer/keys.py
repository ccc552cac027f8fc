"""Refer keys are derived, never stored: an HMAC of a server secret over (file, issue, window).

A key is ``base64url(version | file id | issue | window | mac)``: 38 bytes, 51 characters, of
which the 128-bit MAC is what makes it unguessable. The server recomputes the MAC to accept a
key, so no table, stream record or log line needs the key itself: the owner's ``GET`` and the
live-status push derive the current key again from the row. The file id inside the key is not
a secret (the download answers it in ``X-File-Id``); the MAC is.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

VERSION = 1
_LAYOUT = struct.Struct(">B16sIB")  # version, file id (16 bytes), issue, window
MAC_BYTES = 16
KEY_BYTES = _LAYOUT.size + MAC_BYTES
KEY_LENGTH = (KEY_BYTES * 4 + 2) // 3  # base64url without padding
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class KeyParts:
    file_id: str
    issue: int
    window: int


def subkey(token_secret: str) -> bytes:
    """The refer keys' own secret, derived from the server secret (one secret to manage)."""
    return hmac.new(token_secret.encode(), b"kadr/refer-key/v1", hashlib.sha256).digest()


def mint(secret: bytes, parts: KeyParts) -> str:
    head = _LAYOUT.pack(VERSION, bytes.fromhex(parts.file_id), parts.issue, parts.window)
    mac = hmac.new(secret, head, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(head + mac).decode().rstrip("=")


def parse(secret: bytes, key: str) -> KeyParts | None:
    """The key's parts if the server made it, else None. Checks length and alphabet before any
    decoding, so a 10,000-character or non-ASCII value costs nothing."""
    if len(key) != KEY_LENGTH or not _ALPHABET.issuperset(key):
        return None
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        return None
    head, mac = raw[:_LAYOUT.size], raw[_LAYOUT.size:]
    # One spelling per key: the last character's spare bits must be zero.
    if len(raw) != KEY_BYTES or base64.urlsafe_b64encode(raw).decode().rstrip("=") != key or not hmac.compare_digest(mac, hmac.new(secret, head, hashlib.sha256).digest()[:MAC_BYTES]):
        return None
    version, file_id, issue, window = _LAYOUT.unpack(head)
    if version != VERSION:
        return None
    return KeyParts(file_id.hex(), issue, window)


def fingerprint(key: str) -> str:
    """What logs may carry instead of a key: enough to correlate, useless to download with."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]

"""Every id the server makes: 32 lowercase hex digits of a random UUID (122 random bits).

Ids are made here and only here, and checked against one pattern: in paths, bodies, cursors,
queue messages and object keys. ``Id`` is the pydantic type for request schemas; it is built on
first use so that code paths without a schema (anonymous page reads) never import pydantic.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

PATTERN = r"^[0-9a-f]{32}$"
_ID = re.compile(PATTERN)


def new_id() -> str:
    return uuid.uuid4().hex


def derived_id(*parts: object) -> str:
    """A stable id made from what names a thing (e.g. file, analyzer, category, scene, line): the
    same parts give the same id on every retry, so a redelivered message rewrites the same row.
    The first 128 bits of a SHA-256 of the parts (unit-separated), in the one id format."""
    joined = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:32]


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def __getattr__(name: str) -> Any:
    if name == "Id":
        from typing import Annotated

        from pydantic import StringConstraints

        global Id
        Id = Annotated[str, StringConstraints(pattern=PATTERN)]
        return Id
    raise AttributeError(name)

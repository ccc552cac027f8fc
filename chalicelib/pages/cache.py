"""Per-container cache of page details: repeat reads skip DynamoDB for ``page_cache_ttl`` s.

Views are still counted on every hit (views.record runs on the cached item ids); the cached
``views`` numbers are at most one TTL old, and an edit shows everywhere within one TTL. The HTTP
layer keeps its serialization on the cached entry, so a hit is neither rendered nor encoded again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cachetools import TTLCache

from chalicelib.provider import settings

_lock = threading.Lock()


@dataclass
class Detail:
    item_ids: tuple[str, ...]
    body: dict[str, Any]
    serialized: str | None = None  # filled once by the HTTP layer


@lru_cache(maxsize=1)
def _cache() -> TTLCache:
    return TTLCache(maxsize=1024, ttl=settings().page_cache_ttl)


def get(page_id: str) -> Detail | None:
    with _lock:
        return _cache().get(page_id)


def put(page_id: str, detail: Detail) -> None:
    if settings().page_cache_ttl > 0:
        with _lock:
            _cache()[page_id] = detail


def forget(page_id: str) -> None:
    """Drop this container's copy after an edit it made itself."""
    with _lock:
        _cache().pop(page_id, None)


def clear() -> None:
    with _lock:
        _cache().clear()
    _cache.cache_clear()

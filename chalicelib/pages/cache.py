"""Per-container cache of rendered page details: repeat reads skip DynamoDB for ``page_cache_ttl`` s.

Views are still counted on every hit (views.record runs on the cached item ids); the cached
``views`` numbers are at most one TTL old, and an edit shows everywhere within one TTL.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from cachetools import TTLCache

from chalicelib.config import settings

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cache() -> TTLCache:
    return TTLCache(maxsize=1024, ttl=settings().page_cache_ttl)


def get(page_id: str) -> dict[str, Any] | None:
    with _lock:
        return _cache().get(page_id)


def put(page_id: str, detail: dict[str, Any]) -> None:
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

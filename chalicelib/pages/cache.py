"""Per-container cache of serialized page details: repeat reads skip DynamoDB for ``page_cache_ttl`` s.

Views are still counted on every hit (views.record runs on the cached item ids); the cached
``views`` numbers are at most one TTL old, and an edit shows everywhere within one TTL.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import NamedTuple

from cachetools import TTLCache

from chalicelib.config import settings

_lock = threading.Lock()


class Cached(NamedTuple):
    item_ids: tuple[str, ...]
    body: str  # the detail response, serialized once


@lru_cache(maxsize=1)
def _cache() -> TTLCache:
    return TTLCache(maxsize=1024, ttl=settings().page_cache_ttl)


def get(page_id: str) -> Cached | None:
    with _lock:
        return _cache().get(page_id)


def put(page_id: str, detail: Cached) -> None:
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

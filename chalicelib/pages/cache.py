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


# Details are rendered per API root (their text links are absolute); a few roots per page at most.
_ROOTS_PER_PAGE = 4


def get(page_id: str, base_url: str) -> Detail | None:
    with _lock:
        return _cache().get(page_id, {}).get(base_url)


def put(page_id: str, base_url: str, detail: Detail) -> None:
    if settings().page_cache_ttl > 0:
        with _lock:
            roots = _cache().get(page_id)
            if roots is None:
                _cache()[page_id] = roots = {}
            if base_url not in roots and len(roots) >= _ROOTS_PER_PAGE:
                roots.pop(next(iter(roots)))
            roots[base_url] = detail


def forget(page_id: str) -> None:
    """Drop this container's copy after an edit it made itself."""
    with _lock:
        _cache().pop(page_id, None)


def clear() -> None:
    with _lock:
        _cache().clear()
    _cache.cache_clear()

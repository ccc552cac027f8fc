"""Lazy, shared boto3 clients: created on first use so a cold start pays only for what it calls."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from chalicelib.config import settings

_lock = threading.Lock()


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    """One client per service per container; against moto the endpoint comes from settings."""
    import boto3
    from botocore.config import Config

    cfg = settings()
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"mode": "standard"},
        max_pool_connections=64,
    )
    # boto3.client() uses a shared default session, which is not thread-safe to create clients on.
    with _lock:
        return boto3.client(service, region_name=cfg.region, endpoint_url=cfg.aws_endpoint, config=config)


@lru_cache(maxsize=None)
def queue_url(name: str) -> str:
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def reset() -> None:
    """Forget clients (tests that switch endpoints)."""
    client.cache_clear()
    queue_url.cache_clear()

"""Lazy AWS clients: created on first use, from the one botocore session (see chalicelib.db)."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from chalicelib.config import settings

_lock = threading.Lock()


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    """One client per service per container; against moto the endpoint comes from settings."""
    from botocore.config import Config

    from chalicelib.db import connection

    cfg = settings()
    config = Config(
        signature_version="s3v4",
        # Path-style only against custom endpoints (moto); AWS gets virtual-hosted URLs.
        s3={"addressing_style": "path" if cfg.aws_endpoint else "virtual"},
        retries={"mode": "standard"},
        # Presigned PUTs must carry no checksum the client cannot compute and send.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=64,
    )
    # Creating clients on one botocore session is not thread-safe.
    with _lock:
        return connection().session.create_client(service, region_name=cfg.region,
                                                   endpoint_url=cfg.aws_endpoint, config=config)


@lru_cache(maxsize=None)
def queue_url(name: str) -> str:
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def reset() -> None:
    """Forget clients (tests and the local stack, which switch endpoints)."""
    from chalicelib.db import connection

    client.cache_clear()
    queue_url.cache_clear()
    connection.cache_clear()

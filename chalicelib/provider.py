"""The one place services get their settings, AWS clients, DynamoDB connection and clock.

A ``Provider`` is built from the environment on first use and lives for the container. Tests
install their own (``use(Provider(...))``): in-process moto, another endpoint, a settable clock.

All clients come from the DynamoDB connection's botocore session: PynamoDB gives each model its
own connection and session, boto3 would add another, and each session reloads botocore's
endpoint and model files, which a cold start pays for in full.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Callable, Iterator, TypeVar

from chalicelib.clock import Clock, SystemClock
from chalicelib.config import Settings, from_env

T = TypeVar("T")


class Provider:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()  # a factory may ask for a client
        self._memo: dict[Any, Any] = {}

    @cached_property
    def connection(self) -> Any:
        """PynamoDB's low-level connection, shared by every model (see ``chalicelib.db``)."""
        from pynamodb.connection import Connection

        return Connection(region=self.settings.region, host=self.settings.aws_endpoint, max_pool_connections=64)

    def client(self, service: str) -> Any:
        """One botocore client per service; against moto the endpoint comes from settings."""
        return self.memo(("client", service), lambda: self._new_client(service))

    def _new_client(self, service: str) -> Any:
        from botocore.config import Config

        cfg = self.settings
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
        return self.connection.session.create_client(service, region_name=cfg.region,
                                                     endpoint_url=cfg.aws_endpoint, config=config)

    def queue_url(self, name: str) -> str:
        return self.memo(("queue", name), lambda: self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def memo(self, key: Any, factory: Callable[[], T]) -> T:
        """A per-provider singleton (clients, persistence layers): made once, under a lock, since
        creating clients on one botocore session is not thread-safe."""
        try:
            return self._memo[key]
        except KeyError:
            with self._lock:
                if key not in self._memo:
                    self._memo[key] = factory()
                return self._memo[key]


_current: Provider | None = None
_install_lock = threading.Lock()


def current() -> Provider:
    global _current
    if _current is None:
        with _install_lock:
            if _current is None:
                _current = Provider(from_env())
    return _current


def install(provider: Provider | None) -> None:
    """Replace the provider (None: rebuild from the environment on next use)."""
    global _current
    _current = provider


@contextmanager
def use(provider: Provider) -> Iterator[Provider]:
    previous = _current
    install(provider)
    try:
        yield provider
    finally:
        install(previous)


def settings() -> Settings:
    return current().settings


def client(service: str) -> Any:
    return current().client(service)


def now() -> float:
    return current().clock.now()

"""Powertools Logger and Metrics, created once per container on first use."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "kadr"


@lru_cache(maxsize=1)
def logger() -> "Logger":
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE)


@lru_cache(maxsize=1)
def metrics() -> "Metrics":
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Kadr", service=SERVICE)


def count(name: str, value: float = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    """Emit what this invocation recorded (EMF lines on stdout); nothing if it recorded nothing."""
    if metrics().metric_set:
        metrics().flush_metrics()


def flush_after(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every event type: metrics leave with each invocation."""
    try:
        return get_response(event)
    finally:
        flush()

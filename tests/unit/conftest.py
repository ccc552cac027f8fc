"""The unit tier: no moto server. Handlers run through chalice's own test client, logic against
in-process moto (``mock_aws``), time on a settable clock.

In-process moto shares its backends with moto server when both run in one process, so the two
tiers run as separate pytest processes (``make test`` runs both; ``make test-unit`` this one).
Concurrency stays on moto server: in-process moto loses concurrent updates.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator

import pytest

from chalicelib import provider
from chalicelib.clock import SettableClock
from chalicelib.config import from_env

TEST_SECRET = "unit-tier-secret-" + "x" * 32


@pytest.fixture(scope="session")
def aws() -> Iterator[provider.Provider]:
    """One in-process AWS for the tier, provisioned from the same template as the stacks."""
    from moto import mock_aws

    from infra.provision import provision

    with mock_aws():
        # tests/conftest.py set the environment for the local stack: its URLs are not this tier's.
        settings = dataclasses.replace(from_env(), aws_endpoint=None, views_queue_url=None, local=False,
                                       token_secret=TEST_SECRET, page_cache_ttl=0, public_base_url=None,
                                       api_base_url=None, ws_management_url=None)
        runtime = provider.Provider(settings, SettableClock())
        with provider.use(runtime):
            provision(runtime.client, settings.stage, settings.region)
            yield runtime


@pytest.fixture
def clock(aws: provider.Provider) -> SettableClock:
    assert isinstance(aws.clock, SettableClock)
    return aws.clock


@pytest.fixture(scope="session")
def chalice_app(aws: provider.Provider):  # noqa: ANN201 - chalice.Chalice, imported late
    from app import app

    return app


@pytest.fixture
def http(chalice_app):  # noqa: ANN001, ANN201
    from chalice.test import Client

    with Client(chalice_app) as client:
        yield client


def token(role: str, sub: str | None = None) -> str:
    from chalicelib.auth import issue_token

    return issue_token(sub or f"unit-{role}", role, secret=TEST_SECRET)


def auth(role: str, sub: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub)}", "Content-Type": "application/json"}

"""One local stack (moto server, API, SQS pump, scheduler) for the whole session, on free ports.

The environment is set here, at import, before any test module imports chalicelib: the
PynamoDB models read their table and endpoint when they are defined.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from infra.stack import Stack, StackConfig, configure_env, free_ports
from tests.helpers import Api

API_PORT, MOTO_PORT, WS_PORT = free_ports(3)
CONFIG = StackConfig(api_port=API_PORT, moto_port=MOTO_PORT, ws_port=WS_PORT, load_defaults=False,
                     state_dir=Path(tempfile.mkdtemp(prefix="kadr-test-")), pump_workers=2,
                     env={"KADR_PAGE_CACHE_TTL": "1", "KADR_PART_SIZE": str(5 * 1024 * 1024)})
configure_env(CONFIG)


UNIT = Path(__file__).with_name("unit")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/unit are the ``unit`` tier (no moto server); everything else is not."""
    for item in items:
        if UNIT in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    running = Stack(CONFIG).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack.api_url, stack.tokens)


@pytest.fixture
def page(api: Api) -> dict:
    return api.create_page("Fixture page", [
        {"type": "video", "title": "Clip", "video_url": "https://cdn.example.com/clip.mp4"},
        {"type": "audio", "title": "Talk", "transcript": "Hello there"},
        {"type": "text", "title": "Notes", "body": "Some text"},
    ])

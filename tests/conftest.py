"""One local stack (moto server, API, SQS pump, scheduler) for the whole session, on free ports."""
from __future__ import annotations

from typing import Iterator

import pytest

from infra.stack import Stack, StackConfig, free_port
from tests.helpers import Api


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = StackConfig(api_port=free_port(), moto_port=free_port(), load_defaults=False,
                         state_dir=tmp_path_factory.mktemp("kadr"), pump_workers=2,
                         env={"KADR_PAGE_CACHE_TTL": "1"})
    running = Stack(config).start()
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

"""Benchmarks for the page detail path: throughput, DynamoDB calls, view counting, cold start.

``python -m bench.pages`` (``make bench``) runs everything and writes bench/results/pages.json;
``python -m bench.cold_start`` runs only the cold-start comparison. Both start their own local
stack (moto server, API, SQS pump) in-process on free ports, with state in a temporary directory.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

SAMPLE_ITEMS = [
    {"type": "video", "title": "Clip", "video_url": "https://cdn.example.com/clip.mp4",
     "subtitles_url": "https://cdn.example.com/clip.vtt"},
    {"type": "audio", "title": "Talk", "transcript": "Hello there, and welcome to the talk. " * 20,
     "audio_url": "https://cdn.example.com/talk.mp3"},
    {"type": "text", "title": "Notes", "body": "Some notes about the clip and the talk. " * 40},
]


def start_stack(state_dir: Path, env: dict[str, str] | None = None, pump_workers: int = 2) -> Any:
    """The local stack on free ports, without the default data."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra.stack import Stack, StackConfig, free_ports

    api_port, moto_port, ws_port = free_ports(3)
    config = StackConfig(api_port=api_port, moto_port=moto_port, ws_port=ws_port, load_defaults=False,
                         state_dir=state_dir, pump_workers=pump_workers, env=dict(env or {}))
    return Stack(config).start()


def create_sample_page(stack: Any) -> dict[str, Any]:
    """One page with a video, an audio and a text item, created over HTTP as the editor."""
    import requests

    response = requests.post(f"{stack.api_url}/pages", timeout=60,
                             headers={"Authorization": f"Bearer {stack.tokens['editor']}"},
                             json={"title": "Benchmark page", "items": SAMPLE_ITEMS})
    if response.status_code != 201:
        raise RuntimeError(f"creating the benchmark page failed: {response.status_code} {response.text}")
    return response.json()


def stop_all_but_moto(stack: Any) -> None:
    """Stop the API, the SQS pump and the scheduler so they do not compete with what is measured."""
    for component in list(stack.components):
        if component.name != "moto":
            component.stop()
            stack.components.remove(component)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def environment() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "cpus": os.cpu_count(), "platform": sys.platform}

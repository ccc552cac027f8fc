"""`make dev`'s process: starts everything, loads defaults, prints tokens, stops cleanly."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from infra.stack import ROOT, free_port


def _bound(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stack_process_serves_defaults_and_stops_on_sigterm(tmp_path: Path) -> None:
    api_port, moto_port = free_port(), free_port()
    env = {**os.environ, "KADR_API_PORT": str(api_port), "KADR_MOTO_PORT": str(moto_port),
           "KADR_STATE_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "infra.stack"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        state = tmp_path / "local.json"
        deadline = time.monotonic() + 90
        while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state.exists(), proc.stdout.read() if proc.poll() is not None else "no local.json in time"
        local = json.loads(state.read_text())
        assert local["api"] == f"http://127.0.0.1:{api_port}"
        assert set(local["tokens"]) == {"reader", "uploader", "editor", "analyzer", "admin"}

        listing = requests.get(f"{local['api']}/pages", timeout=30).json()
        assert listing["count"] == 3  # infra/default_data.json
        created = requests.post(f"{local['api']}/pages", json={"title": "From the test"}, timeout=30,
                                headers={"Authorization": f"Bearer {local['tokens']['editor']}"})
        assert created.status_code == 201
        denied = requests.post(f"{local['api']}/pages", json={"title": "x"}, timeout=30,
                               headers={"Authorization": f"Bearer {local['tokens']['reader']}"})
        assert denied.status_code == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    for role in ("editor", "admin"):
        assert f"  {role}" in output  # tokens printed
    assert "kadr: stopped" in output
    assert not _bound(api_port) and not _bound(moto_port)


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "KADR_API_PORT": str(port), "KADR_MOTO_PORT": str(free_port()),
               "KADR_STATE_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "-m", "infra.stack"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode != 0
    assert f"port {port} for the api is in use" in result.stderr

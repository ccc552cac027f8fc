"""`make dev`'s process: starts everything, loads defaults, prints tokens, stops cleanly."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from infra.stack import ROOT, free_port, free_ports


def _bound(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start_stack(tmp_path: Path) -> tuple[subprocess.Popen, int, int]:
    """``python -m infra.stack`` (what `make dev` runs) on free ports, state in ``tmp_path``."""
    api_port, moto_port, ws_port = free_ports(3)
    env = {**os.environ, "KADR_API_PORT": str(api_port), "KADR_MOTO_PORT": str(moto_port),
           "KADR_WS_PORT": str(ws_port), "KADR_STATE_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "infra.stack"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, api_port, moto_port


def _local_json(proc: subprocess.Popen, tmp_path: Path) -> dict:
    """The stack's .kadr/local.json, once it has written it (it does so when ready)."""
    state = tmp_path / "local.json"
    deadline = time.monotonic() + 90
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state.exists(), proc.stdout.read() if proc.poll() is not None else "no local.json in time"
    return json.loads(state.read_text())


def test_stack_process_serves_defaults_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc, api_port, moto_port = _start_stack(tmp_path)
    try:
        local = _local_json(proc, tmp_path)
        assert local["api"] == f"http://127.0.0.1:{api_port}"
        ws_port = int(local["ws"].rsplit(":", 1)[1])
        assert local["ws"] == f"ws://127.0.0.1:{ws_port}" and _bound(ws_port)
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
    assert not _bound(api_port) and not _bound(moto_port) and not _bound(ws_port)


def test_sigterm_under_load_stops_everything_within_5_s(tmp_path: Path) -> None:
    proc, api_port, moto_port = _start_stack(tmp_path)
    stop = threading.Event()
    served = [0]
    try:
        local = _local_json(proc, tmp_path)
        editor = {"Authorization": f"Bearer {local['tokens']['editor']}"}
        page = requests.post(f"{local['api']}/pages", headers=editor, timeout=30, json={"title": "Load", "items": [
            {"type": "text", "title": f"T{i}", "body": "x" * 200} for i in range(3)]}).json()

        def reader() -> None:  # detail reads (views for the pump) and creates, until the stack is gone
            session = requests.Session()
            while not stop.is_set():
                try:
                    session.get(f"{local['api']}/pages/{page['id']}", timeout=5)
                    session.post(f"{local['api']}/pages", headers=editor, json={"title": "more"}, timeout=5)
                    served[0] += 1
                except requests.RequestException:
                    time.sleep(0.05)

        clients = [threading.Thread(target=reader, daemon=True) for _ in range(8)]
        for client in clients:
            client.start()
        time.sleep(8)  # the views queue fills and the pump is mid-batch
        assert served[0] > 0
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    print(f"SIGTERM -> exited in {took:.2f} s")
    assert took < 5, f"SIGTERM took {took:.1f} s to stop the stack"
    assert proc.returncode == 0, output
    assert "kadr: stopped" in output
    assert not _bound(api_port) and not _bound(moto_port)


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "KADR_API_PORT": str(port), "KADR_MOTO_PORT": str(free_port()),
               "KADR_WS_PORT": str(free_port()), "KADR_STATE_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "-m", "infra.stack"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode != 0
    assert f"port {port} for the api is in use" in result.stderr


def test_a_busy_websocket_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        api_port, moto_port = free_ports(2)
        env = {**os.environ, "KADR_API_PORT": str(api_port), "KADR_MOTO_PORT": str(moto_port),
               "KADR_WS_PORT": str(port), "KADR_STATE_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "-m", "infra.stack"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode != 0
    assert f"port {port} for the ws is in use; set KADR_WS_PORT" in result.stderr

"""The local stack: moto server, the REST API, the SQS pump, the scheduler, the WebSocket gateway
and the DynamoDB Streams pump in one process.

``python -m infra.stack`` (what ``make dev`` runs) starts it, prints a token per role, writes
``.kadr/local.json`` and stops everything on Ctrl-C or SIGTERM. Tests start the same class.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.emulators import ApiServer, Component, MotoServer, Scheduler, SqsPump, StreamPump
from infra.provision import provision
from infra.ws_gateway import WebSocketGateway

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(__file__).with_name("default_data.json")
DEFAULT_CATALOG = Path(__file__).parent / "catalog" / "default_catalog.xlsx"


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    api_port: int = 8000
    moto_port: int = 4566
    ws_port: int = 8001
    stage: str = "dev"
    region: str = "us-east-1"
    state_dir: Path = ROOT / ".kadr"
    pump_workers: int = 2
    load_defaults: bool = True
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "StackConfig":
        return cls(host=os.environ.get("KADR_HOST", "127.0.0.1"),
                   api_port=_env_int("KADR_API_PORT", 8000, 1, 65535),
                   moto_port=_env_int("KADR_MOTO_PORT", 4566, 1, 65535),
                   ws_port=_env_int("KADR_WS_PORT", 8001, 1, 65535),
                   pump_workers=_env_int("KADR_PUMP_WORKERS", 2, 1, 64),
                   state_dir=Path(os.environ.get("KADR_STATE_DIR", ROOT / ".kadr")))


def _env_int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    if not (raw.strip().isascii() and raw.strip().isdigit() and low <= int(raw) <= high):
        raise SystemExit(f"kadr: {name}={raw!r} is not a number from {low} to {high}")
    return int(raw)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different free ports (one free_port() after another may return the same one)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _check_free(host: str, port: int, what: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise SystemExit(f"kadr: port {port} for the {what} is in use; set KADR_{what.upper()}_PORT") from None


def _secret(state_dir: Path) -> str:
    """A per-machine signing key, kept so tokens survive restarts of the stack."""
    path = state_dir / "secret"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.components: list[Component] = []
        self.tokens: dict[str, str] = {}
        self.app: Any = None
        self.resources: dict[str, dict[str, str]] = {}
        self.console: Any = None

    @property
    def api_url(self) -> str:
        return f"http://{self.config.host}:{self.config.api_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.config.ws_port}"

    @property
    def moto_url(self) -> str:
        return f"http://{self.config.host}:{self.config.moto_port}"

    def _add(self, component: Component) -> None:
        component.start()
        self.components.append(component)

    def start(self) -> "Stack":
        cfg = self.config
        _check_free(cfg.host, cfg.moto_port, "moto")
        _check_free(cfg.host, cfg.api_port, "api")
        _check_free(cfg.host, cfg.ws_port, "ws")
        try:
            self._add(MotoServer(cfg.host, cfg.moto_port))
            configure_env(cfg)
            from chalicelib import provider

            provider.install(None)
            self.resources = provision(provider.client, cfg.stage, cfg.region)
            os.environ["KADR_VIEWS_QUEUE_URL"] = self.resources["ViewsQueue"]["Ref"]
            # Read where app.py registers the stream handler: the stream moto just made.
            os.environ["KADR_FILES_STREAM_ARN"] = self.resources["FilesTable"]["StreamArn"]
            provider.install(None)
            if str(ROOT) not in sys.path:
                sys.path.insert(0, str(ROOT))
            self.app = importlib.import_module("app").app
            if cfg.load_defaults:
                load_default_data()
            sqs = provider.client("sqs")
            from chalice.app import SQSEventConfig

            for source in self.app.event_sources:
                if isinstance(source, SQSEventConfig):
                    self._add(SqsPump(self.app, source, sqs, cfg.region, workers=cfg.pump_workers))
            self._add(Scheduler(self.app, cfg.region))
            settings = provider.settings()
            self._add(WebSocketGateway(self.app, cfg.host, cfg.ws_port, idle_timeout=settings.ws_idle_timeout,
                                       max_lifetime=settings.ws_connection_ttl))
            from chalice.app import DynamoDBEventConfig

            for source in self.app.event_sources:
                if isinstance(source, DynamoDBEventConfig):
                    self._add(StreamPump(self.app, source, streams_client(cfg), provider.client("dynamodb"),
                                         cfg.region))
            self._add(ApiServer(self.app, str(ROOT), cfg.stage, cfg.host, cfg.api_port))
            from chalicelib.bulk import logs as bulk_logs
            from infra.console import ConsoleSink

            self.console = ConsoleSink()
            bulk_logs.add_sink(self.console)  # bulk task lines on this console, coloured by level
            self.tokens = issue_tokens()
            self._write_state()
        except BaseException:
            self.stop()
            raise
        return self

    def _write_state(self) -> None:
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.config.state_dir / "local.json"
        path.write_text(json.dumps({"api": self.api_url, "ws": self.ws_url, "moto": self.moto_url,
                                    "tokens": self.tokens}, indent=2))
        path.chmod(0o600)

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def stop(self) -> None:
        if getattr(self, "console", None) is not None:
            from chalicelib.bulk import logs as bulk_logs

            bulk_logs.remove_sink(self.console)
        for component in self.components:
            component.request_stop()
        while self.components:
            component = self.components.pop()
            try:
                component.stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest whatever one did
                print(f"kadr: stopping {component.name} failed: {exc}", file=sys.stderr)


def configure_env(config: StackConfig) -> None:
    """The stage's variables from .chalice/config.json, then what points them at moto.

    Must run before anything imports chalicelib's models (their table settings are read then).
    """
    disk = json.loads((ROOT / ".chalice" / "config.json").read_text())
    os.environ.update(disk.get("environment_variables", {}))
    os.environ.update(disk["stages"][config.stage].get("environment_variables", {}))
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": config.region, "KADR_AWS_ENDPOINT": f"http://{config.host}:{config.moto_port}",
        "KADR_TOKEN_SECRET": _secret(config.state_dir), "KADR_LOCAL": "1",
        # The stream handler builds absolute download URLs; pushes go to the local gateway.
        "KADR_API_BASE_URL": f"http://{config.host}:{config.api_port}",
        "KADR_WS_MANAGEMENT_URL": f"http://{config.host}:{config.ws_port}", **config.env,
    })


def streams_client(config: StackConfig) -> Any:
    """DynamoDB Streams on moto: boto3 1.44 sends streams calls to an account-id endpoint that moto
    answers with 404 unless that endpoint mode is off."""
    from botocore.config import Config

    from chalicelib import provider

    return provider.current().connection.session.create_client(
        "dynamodbstreams", region_name=config.region, endpoint_url=f"http://{config.host}:{config.moto_port}",
        config=Config(account_id_endpoint_mode="disabled", retries={"mode": "standard"}))


def issue_tokens() -> dict[str, str]:
    from chalicelib.auth import ROLES, issue_token

    return {role: issue_token(f"local-{role}", role) for role in ROLES}


def load_default_data(path: Path = DEFAULT_DATA, catalog: Path = DEFAULT_CATALOG) -> int:
    """Create the sample pages and load the default violations workbook through the same
    validation, store and import code the API uses."""
    from chalicelib.catalog import service as violations
    from chalicelib.pages import store
    from chalicelib.pages.schemas import PageCreate

    pages = json.loads(path.read_text())["pages"]
    for page in pages:
        spec = PageCreate.model_validate(page)
        store.create_page(spec.title, spec.items, "")  # the answer's links are not used
    violations.import_workbook(catalog.read_bytes())
    return len(pages)


STOP_GRACE_S = 4.0  # Ctrl-C/SIGTERM must end the process within 5 s, whatever is in flight


def _exit_now(code: int, message: str | None = None) -> None:
    """Leave without interpreter finalization: freeing a large moto heap object by object and
    joining werkzeug's request threads took tens of seconds, and no state outlives the process
    anyway (moto keeps everything in memory)."""
    if message:
        print(message, file=sys.stderr, flush=True)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    stack = Stack(StackConfig.from_env())
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stopping.is_set():  # a second Ctrl-C: do not wait for anything
            _exit_now(130, "kadr: stopped at once")
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack.start()
    print(f"\nKadr local stack ({stack.config.stage})\n  API    {stack.api_url}   (docs: {stack.api_url}/docs)"
          f"\n  ws     {stack.ws_url}   (?token=<bearer token>)"
          f"\n  moto   {stack.moto_url}\n  state  {stack.config.state_dir / 'local.json'}\n\nBearer tokens:")
    for role, token in stack.tokens.items():
        print(f"  {role:<9} {token}")
    print("\nCtrl-C stops everything.", flush=True)
    stopping.wait()
    print("kadr: stopping ...", flush=True)
    watchdog = threading.Timer(STOP_GRACE_S, _exit_now,
                               args=(1, f"kadr: components still stopping after {STOP_GRACE_S:.0f} s; exiting"))
    watchdog.daemon = True
    watchdog.start()
    stack.stop()
    print("kadr: stopped", flush=True)
    _exit_now(0)


if __name__ == "__main__":
    main()

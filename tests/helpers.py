"""Test helpers: an HTTP client for the local stack and DynamoDB call counting."""
from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator

import requests


class ResponseSchemas:
    """Checks every 2xx response against the OpenAPI document's response for its operation: the
    status is documented, and a JSON body validates against the documented schema. So every test
    that calls the API also checks the responses conform to their models."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._lock = threading.Lock()
        self._routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] | None = None
        self._validators: dict[tuple[str, str, str], Any] = {}
        self._components: dict[str, Any] = {}

    def _load(self) -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
        with self._lock:
            if self._routes is None:
                doc = requests.get(self.base + "/openapi.json", timeout=60).json()
                self._components = doc.get("components", {})
                routes = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path, ops)
                          for path, ops in doc["paths"].items()]
                self._routes = sorted(routes, key=lambda r: r[1].count("{"))  # literal paths first
            return self._routes

    def _validator(self, path: str, method: str, status: str, schema: dict[str, Any]) -> Any:
        key = (path, method, status)
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            self._validators[key] = Draft202012Validator({**schema, "components": self._components})
        return self._validators[key]

    def check(self, method: str, url: str, response: requests.Response) -> None:
        if not 200 <= response.status_code < 300 or not url.startswith(self.base):
            return
        path = url[len(self.base):].split("?", 1)[0]
        for pattern, template, ops in self._load():
            if pattern.match(path) and method.lower() in ops:
                break
        else:
            return
        responses = ops[method.lower()]["responses"]
        documented = responses.get(str(response.status_code))
        assert documented is not None, f"{method} {template}: {response.status_code} is not documented"
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or not response.headers.get("Content-Type", "").startswith("application/json"):
            return
        errors = sorted(self._validator(template, method, str(response.status_code), schema).iter_errors(
            response.json()), key=lambda e: list(e.path))
        assert not errors, (f"{method} {template} {response.status_code}: the body does not match its "
                            f"documented schema: " + "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]))


class Api:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens
        self.session = requests.Session()
        self.schemas = ResponseSchemas(base)

    def call(self, method: str, path: str, role: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if role:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        response = self.session.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        self.schemas.check(method, self.base + path, response)
        return response

    def get(self, path: str, role: str | None = None, **kw: Any) -> requests.Response:
        return self.call("GET", path, role, **kw)

    def post(self, path: str, role: str | None = "editor", **kw: Any) -> requests.Response:
        return self.call("POST", path, role, **kw)

    def patch(self, path: str, role: str | None = "editor", **kw: Any) -> requests.Response:
        return self.call("PATCH", path, role, **kw)

    def put(self, path: str, role: str | None = "editor", **kw: Any) -> requests.Response:
        return self.call("PUT", path, role, **kw)

    def delete(self, path: str, role: str | None = "editor", **kw: Any) -> requests.Response:
        return self.call("DELETE", path, role, **kw)

    def create_page(self, title: str, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        response = self.post("/pages", json={"title": title, "items": items or []})
        assert response.status_code == 201, response.text
        return response.json()


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def dynamodb_clients() -> list[Any]:
    """The botocore client the app uses for DynamoDB (PynamoDB's; views share it)."""
    from chalicelib.db import dynamodb

    return [dynamodb()]


@contextmanager
def count_dynamodb_calls() -> Iterator[Counter[str]]:
    """Counts DynamoDB operations by name, in this process, while the block runs."""
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def hook(model: Any, **_: Any) -> None:
        with lock:
            calls[model.name] += 1

    clients = dynamodb_clients()
    for c in clients:
        c.meta.events.register("before-call.dynamodb", hook)
    try:
        yield calls
    finally:
        for c in clients:
            c.meta.events.unregister("before-call.dynamodb", hook)


def queue_depth(stack: Any, queue: str) -> int:
    from chalicelib.provider import client

    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(v) for v in attrs.values())


def drain(stack: Any, timeout: float = 120) -> None:
    """Wait until the views queue is empty and stays empty (the pump has applied every batch)."""
    from chalicelib.provider import settings

    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if queue_depth(stack, settings().views_queue) == 0 else 0
        if quiet >= 3:
            return
        time.sleep(0.5)
    raise AssertionError("the views queue did not drain")


def views_of(api: Api, page_id: str) -> dict[str, int]:
    """Fresh view counts, read past this container's page cache."""
    from chalicelib.pages import store

    _, items = store.load(page_id)
    return {row.item_id: int(row.views) for row in items}

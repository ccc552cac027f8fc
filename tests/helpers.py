"""Test helpers: an HTTP client for the local stack and DynamoDB call counting."""
from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AwsCall:
    service: str
    operation: str
    params: dict[str, Any]


@contextmanager
def watch_aws_calls() -> Iterator[list[AwsCall]]:
    """Every AWS API call made in this process while the block runs, through any botocore client.

    Patches ``BaseClient._make_api_call``, the one method every client call goes through
    (PynamoDB's connection calls it too), so a client made anywhere, at any time, is seen: a
    per-client event hook sees only the clients it was registered on.
    """
    from botocore.client import BaseClient

    calls: list[AwsCall] = []
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def watched(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        with lock:
            calls.append(AwsCall(self.meta.service_model.service_name, operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = watched  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def dynamodb_clients() -> list[Any]:
    """The botocore client the app uses for DynamoDB (PynamoDB's; views share it)."""
    from chalicelib.db import dynamodb

    return [dynamodb()]


@contextmanager
def count_dynamodb_calls(table: str | None = None) -> Iterator[Counter[str]]:
    """Counts DynamoDB operations by name, in this process, while the block runs; on ``table`` only
    when given (the stack's scheduler and pumps query other tables from their own threads)."""
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def hook(model: Any, params: Any = None, **_: Any) -> None:
        if table is not None and (params or {}).get("TableName") != table:
            return
        with lock:
            calls[model.name] += 1

    clients = dynamodb_clients()
    for c in clients:
        c.meta.events.register("before-parameter-build.dynamodb", hook)  # params: the call's own, with TableName
    try:
        yield calls
    finally:
        for c in clients:
            c.meta.events.unregister("before-parameter-build.dynamodb", hook)


def queue_depth(stack: Any, queue: str) -> int:
    from chalicelib.provider import client

    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(v) for v in attrs.values())


def drain(stack: Any, timeout: float = 120) -> None:
    """Wait until the views queue is empty and stays empty (the pump has applied every batch)."""
    from chalicelib.provider import client, settings

    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if queue_depth(stack, settings().views_queue) == 0 else 0
        if quiet >= 3:
            return
        time.sleep(0.5)
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=settings().views_queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    raise AssertionError(f"the views queue did not drain: {attrs}")


def views_of(api: Api, page_id: str) -> dict[str, int]:
    """Fresh view counts, read past this container's page cache."""
    from chalicelib.pages import store

    _, items = store.load(page_id)
    return {row.item_id: int(row.views) for row in items}


def upload_parts(api: Api, file: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """PUT every part of ``data`` to its presigned URL, as the file's upload plan cuts it."""
    plan = file["upload"]
    numbers = list(range(1, plan["part_count"] + 1))
    signed = api.post(f"/files/{file['id']}/parts", role="uploader", json={"part_numbers": numbers}).json()["parts"]
    parts = []
    for part in signed:
        start = (part["part_number"] - 1) * plan["part_size"]
        put = requests.put(part["url"], data=data[start:start + plan["part_size"]], headers=part["headers"],
                           timeout=60)
        assert put.status_code == 200, put.text
        parts.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
    return parts


def wait_until_stored(api: Api, file_id: str, timeout: float = 30) -> dict[str, Any]:
    """The file once S3's event has moved it out of ``pending`` (to processing or error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        file = api.get(f"/files/{file_id}", role="uploader").json()
        if file["status"] != "pending":
            return file
        time.sleep(0.2)
    raise AssertionError("the file stayed pending")


def upload_file(api: Api, data: bytes, *, kind: str = "screenplay", content_type: str = "text/plain",
                filename: str = "text.txt", **extra: Any) -> dict[str, Any]:
    """Upload ``data`` as the uploader, through presigned part URLs; wait until it is stored."""
    response = api.post("/files", role="uploader", json={"filename": filename, "size": len(data),
                                                         "content_type": content_type, "kind": kind, **extra})
    assert response.status_code == 201, response.text
    file = response.json()
    done = api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": upload_parts(api, file, data)})
    assert done.status_code == 200, done.text
    file = wait_until_stored(api, file["id"])
    # Stored and verified; a readable kind may already be with the built-in analyzer (or past it,
    # in error when it could not read the file).
    assert file["status"] in ("processing", "ready", "db_ready") or file["error_code"] == "unreadable", file
    return file


def zip_archive(entries: dict[str, bytes]) -> bytes:
    """A deflated zip of ``entries`` (name -> content): hand-made docx and xlsx files, zip bombs."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()

"""Schemathesis fuzzes every operation of the running stack's `/openapi.json`, as every role.

Driven by the document alone: a route added later is in the document, so it is fuzzed too. Each
operation is run as anonymous and with a token of each role, with schema-valid (positive) and
schema-invalid (negative) requests, with generated path ids and with ids of resources that exist.
Every response must be non-5xx, documented (status code, content type, schema), and every 4xx
must be the JSON error shape. Hypothesis is derandomized: the same requests every run.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.auth import issue_token
from tests.helpers import Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Raw bodies of binary media types (the catalog import): arbitrary bytes, plus the start of a zip.
schemathesis.openapi.media_type(XLSX, st.one_of(st.binary(max_size=4096),
                                                 st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b)))

FORGED = "forged"  # a well-formed token signed with another key: a 401 everywhere, open routes included
ROLES: tuple[str | None, ...] = (None, "reader", "uploader", "editor", "analyzer", "admin", FORGED)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
MIN_REQUESTS = 1000
# Examples per (operation, role, mode): many where the role gets past the role check (the body,
# query and ids are then exercised), a few where it is refused (the refusal is all there is to see).
# KADR_FUZZ_EXAMPLES raises the first for a deeper run by hand.
ADMITTED, REFUSED = int(os.environ.get("KADR_FUZZ_EXAMPLES", 14)), 3


def error_shape(response: Any) -> None:
    """Every 4xx is `{"error": {"code", "message", "details"?}}` with JSON content type."""
    if 400 <= response.status_code < 500:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.startswith("application/json"), (response.status_code, response.headers)
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error"}, body
        error = body["error"]
        assert set(error) <= {"code", "message", "details"}, error
        assert isinstance(error["code"], str) and error["code"], error
        assert isinstance(error["message"], str) and error["message"], error


def admitted(roles: list[str] | None, role: str | None) -> bool:
    if role == FORGED:
        return False
    return roles is None or role == "admin" or role in roles


class Fuzzer:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.session = requests.Session()
        self.requests: Counter[str] = Counter()
        self.failures: dict[str, str] = {}
        self.pages: list[str] = []  # created here, deleted at the end: moto copies the table per transaction

    def clean_up(self) -> None:
        for page_id in self.pages:
            self.api.delete(f"/pages/{page_id}", role="admin")

    def headers(self, role: str | None) -> dict[str, str]:
        if role == FORGED:
            return {"Authorization": f"Bearer {issue_token('mallory', 'admin', secret='not-the-key-' + 'x' * 32)}"}
        return {"Authorization": f"Bearer {self.api.tokens[role]}"} if role else {}

    def run(self, operation: Any, role: str | None, mode: GenerationMode, examples: int,
            path_parameters: dict[str, str] | None = None) -> None:
        label = f"{operation.label} as {role or 'anonymous'} ({mode.value}{', real ids' if path_parameters else ''})"
        headers = self.headers(role)
        roles = operation.definition.raw.get("x-roles")

        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], print_blob=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.data_too_large, HealthCheck.large_base_example])
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        def fuzz(case: Any) -> None:
            response = case.call(base_url=self.api.base, session=self.session, headers=headers, timeout=60,
                                 allow_redirects=False)
            self.requests[operation.label] += 1
            if response.status_code == 201 and operation.path == "/pages":
                self.pages.append(response.json()["id"])
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except BaseExceptionGroup as group:  # schemathesis' FailureGroup is no Exception: make it one
                raise AssertionError(str(group)) from None
            error_shape(response)
            if not admitted(roles, role):
                # Negative cases may drop or spoil the token: then the refusal is a 401, else a 403.
                sent_ours = role is not None and response.request.headers.get("Authorization") == headers["Authorization"]
                refused = 403 if sent_ours and role != FORGED else 401
                assert response.status_code == refused, (response.status_code, response.text)

        before = self.requests[operation.label]
        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report them together
            self.failures[label] = f"{type(exc).__name__}: {exc}"[:3000]
        else:
            if self.requests[operation.label] == before:
                self.failures[label] = "no request was made"


def own_ids(fuzzer: Fuzzer, role: str | None, path: str) -> dict[str, str] | None:
    """Ids of resources that exist and belong to the role, for the path's parameters."""
    api = fuzzer.api
    params: dict[str, str] = {}
    if "{page_id}" in path:
        page = api.create_page("Fuzz page", [{"type": "text", "title": "Fuzz item", "body": "text"}])
        fuzzer.pages.append(page["id"])
        params["page_id"] = page["id"]
        if "{item_id}" in path:
            params["item_id"] = page["items"][0]["id"]
    if "{file_id}" in path:
        owner = role if role in ("uploader", "admin") else "uploader"
        created = api.post("/files", role=owner, json={"filename": "fuzz.txt", "size": 10, "content_type": "text/plain",
                                                       "kind": "screenplay"})
        assert created.status_code == 201, created.text
        params["file_id"] = created.json()["id"]
    if "{task_id}" in path:
        owner = role if role in ("uploader", "admin") else "uploader"
        created = api.post("/bulk-uploads", role=owner, json={"name": "Fuzz task", "items": [
            {"filename": "fuzz.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay", "account": "fuzz"}]})
        assert created.status_code == 201, created.text
        params["task_id"] = created.json()["id"]
        if "{account}" in path:
            params["account"] = "fuzz"
    return params or None


def negatable(operation: Any) -> bool:
    """Schema-invalid requests exist only for a body or a constrained parameter (any string is a valid id)."""
    raw = operation.definition.raw
    return bool(raw.get("requestBody") or any(p["in"] != "path" for p in raw.get("parameters", [])))


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def schema(document: dict[str, Any]) -> Any:
    # from_dict, not from_url: from_url leaves out the operation that serves the document itself.
    return schemathesis.openapi.from_dict(document)


def test_fuzz_every_operation_as_every_role(api: Api, document: dict[str, Any], schema: Any) -> None:
    fuzzer = Fuzzer(api)
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    assert {op.label for op in operations} == documented
    try:
        for operation in operations:
            roles = operation.definition.raw.get("x-roles")
            for role in ROLES:
                examples = ADMITTED if admitted(roles, role) else REFUSED
                fuzzer.run(operation, role, GenerationMode.POSITIVE, examples)
                if negatable(operation):
                    fuzzer.run(operation, role, GenerationMode.NEGATIVE, examples)
                if admitted(roles, role) and "{" in operation.path:
                    fuzzer.run(operation, role, GenerationMode.POSITIVE, examples,
                               own_ids(fuzzer, role, operation.path))
    finally:
        fuzzer.clean_up()
    elapsed = time.monotonic() - started
    total = sum(fuzzer.requests.values())
    print(f"\nfuzz: {total} requests over {len(fuzzer.requests)} operations in {elapsed:.1f} s")
    for label, count in sorted(fuzzer.requests.items()):
        print(f"  {count:5d}  {label}")
    assert not fuzzer.failures, "\n\n".join(f"== {label}\n{text}" for label, text in fuzzer.failures.items())
    assert set(fuzzer.requests) == {op.label for op in operations}, "an operation got no request"
    assert total >= MIN_REQUESTS, total

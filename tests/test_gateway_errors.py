"""What the local gateway answers without the app, in the JSON error shape (AWS: infra/gateway_responses.json)."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

import pytest
import requests

from tests.helpers import Api, assert_error


@pytest.mark.parametrize("path", ["/nope", "/pages/a/b/c", "/files/x/y", "/pages/p/items/i/views"])
@pytest.mark.parametrize("role", [None, "editor"])
def test_unknown_paths_are_a_json_404_not_api_gateways_403(api: Api, path: str, role: str | None) -> None:
    # Chalice's local gateway answered "Missing Authentication Token" 403 (or, with an
    # Authorization header, a SigV4 complaint), as API Gateway does until its gateway response is shaped.
    response = api.call("GET", path, role)
    assert_error(response, 404, "not_found")
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method, path", [("PUT", "/health"), ("DELETE", "/pages"), ("POST", "/files/abc")])
def test_a_known_path_with_another_method_is_a_json_405(api: Api, method: str, path: str) -> None:
    assert_error(api.call(method, path, "admin"), 405, "method_not_allowed")


def test_trace_is_a_json_501(api: Api) -> None:
    assert_error(api.call("TRACE", "/health"), 501, "not_implemented")


def test_a_url_over_64_kib_is_a_json_414(api: Api) -> None:
    response = requests.get(f"{api.base}/pages?title={'a' * 70000}", timeout=30)
    assert_error(response, 414, "uri_too_long")


def _raw(api: Api, request: bytes) -> bytes:
    url = urlparse(api.base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    return raw


def test_a_malformed_request_line_is_a_json_400(api: Api) -> None:
    raw = _raw(api, b"GET /health HTTP/9.9 extra\r\n\r\n")
    # An unparsable version means HTTP/0.9 to http.server: no status line, the body alone.
    assert json.loads(raw.rpartition(b"\r\n\r\n")[2] or raw)["error"]["code"] == "bad_request"


@pytest.mark.parametrize("length", [b"+^d)_i'Uz", b"-1", b"1e3"])
def test_a_malformed_content_length_is_a_json_400_not_a_dropped_connection(api: Api, length: bytes) -> None:
    """Found by the fuzzer: the local gateway's int(Content-Length) raised and closed the connection."""
    raw = _raw(api, b"GET /files HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head, raw
    assert json.loads(body)["error"]["code"] == "bad_request"

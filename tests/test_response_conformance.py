"""The test client checks each 2xx response against its documented response (tests/helpers.py)."""
from __future__ import annotations

import json

import pytest
import requests

from tests.helpers import Api


def _fake(status: int, body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = "application/json"
    response._content = json.dumps(body).encode()
    return response


def test_a_real_detail_conforms(api: Api, page: dict) -> None:
    api.get(f"/pages/{page['id']}")  # checked inside call
    api.schemas.check("GET", f"{api.base}/pages/{page['id']}", _fake(200, page))


def test_a_body_off_its_schema_fails(api: Api, page: dict) -> None:
    broken = {k: v for k, v in page.items() if k != "items"}
    with pytest.raises(AssertionError, match="does not match its documented schema"):
        api.schemas.check("GET", f"{api.base}/pages/{page['id']}", _fake(200, broken))
    with pytest.raises(AssertionError, match="items"):
        api.schemas.check("GET", f"{api.base}/pages/{page['id']}", _fake(200, {**page, "items": [{"id": 1}]}))


def test_an_undocumented_success_status_fails(api: Api, page: dict) -> None:
    with pytest.raises(AssertionError, match="201 is not documented"):
        api.schemas.check("GET", f"{api.base}/pages/{page['id']}", _fake(201, page))


def test_unknown_routes_and_errors_are_left_alone(api: Api) -> None:
    api.schemas.check("GET", f"{api.base}/no/such/route", _fake(200, {}))
    api.schemas.check("GET", f"{api.base}/pages/x", _fake(404, {"anything": 1}))

"""The console's routes: its page loads nothing from outside, its assets are an allow-list with
correct types and caching, and its configuration hands out tokens only on the local stack."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from chalicelib import provider
from chalicelib.console import service as console


def _headers(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


def _page(http) -> tuple[str, dict[str, str]]:
    response = http.http.get("/")
    assert response.status_code == 200
    return response.body.decode(), _headers(response)


def test_the_page_names_only_its_own_assets_and_forbids_outside_origins(http) -> None:
    html, headers = _page(http)
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-cache"
    assert "http://" not in html and "https://" not in html
    csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    # The API itself, and the S3 origin the presigned part URLs point at (uploads go there).
    sources = csp["connect-src"].split()
    assert sources[0] == "'self'" and any(s.startswith("https://") and "s3" in s for s in sources[1:]), sources
    named = re.findall(r'(?:src|href)="console/([0-9a-f]{16})/([^"]+)"', html)
    assert {name for _, name in named} == {"app.js", "console.css"}
    assert {version for version, _ in named} == {console.version()}


def test_every_asset_is_served_with_its_type_and_cached_for_good(http) -> None:
    version = console.version()
    imported: set[str] = set()
    for name, content_type in console.ASSETS.items():
        response = http.http.get(f"/console/{version}/{name}")
        assert response.status_code == 200, name
        headers = _headers(response)
        assert headers["content-type"] == content_type
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["x-content-type-options"] == "nosniff"
        text = response.body.decode()
        # No outside URL anywhere: no CDN, no web font, no analytics.
        assert not re.search(r"https?://", text), name
        imported |= set(re.findall(r'from "\./([a-z]+\.js)"', text))
    assert imported <= set(console.ASSETS), "a module imports a file outside the allow-list"
    assert imported == set(console.ASSETS) - {"app.js", "console.css"}, "an asset no module imports"


def test_unknown_names_and_old_versions(http) -> None:
    for path in ("/console/0123456789abcdef/app.py", "/console/x/..%2F..%2Fapp.py", "/console/x/index.html"):
        response = http.http.get(path)
        assert response.status_code == 404, path
        assert json.loads(response.body)["error"]["code"] == "not_found"
    stale = http.http.get("/console/0123456789abcdef/app.js")  # a page loaded before a deploy
    assert stale.status_code == 200 and _headers(stale)["cache-control"] == "no-cache"


def test_the_config_has_no_tokens_outside_the_local_stack(http) -> None:
    response = http.http.get("/console/config.json")
    assert response.status_code == 200 and _headers(response)["cache-control"] == "no-store"
    assert json.loads(response.body) == {"stage": provider.settings().stage, "ws": console.ws_url(),
                                         "local": False, "tokens": None}


@pytest.fixture
def local_settings(aws: provider.Provider):
    changed = dataclasses.replace(aws.settings, local=True, ws_url="ws://127.0.0.1:8001")
    with provider.use(provider.Provider(changed, aws.clock)):
        yield changed


@pytest.mark.usefixtures("local_settings")
def test_the_local_stack_offers_its_tokens_and_ws(http, monkeypatch) -> None:
    from chalicelib.auth import ROLES, authenticate

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    body = json.loads(http.http.get("/console/config.json", headers={"Host": "127.0.0.1:8000"}).body)
    assert body["local"] is True and body["ws"] == "ws://127.0.0.1:8001"
    assert set(body["tokens"]) == set(ROLES)
    principal = authenticate({"authorization": f"Bearer {body['tokens']['uploader']}"}, {})
    assert (principal.sub, principal.role) == ("local-uploader", "uploader")  # the stack's own subjects
    csp = _page(http)[1]["content-security-policy"]
    assert "ws://127.0.0.1:8001" in csp.split("connect-src", 1)[1].split(";")[0]


@pytest.mark.usefixtures("local_settings")
def test_inside_lambda_no_tokens_even_if_local_is_set(http, monkeypatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "kadr-dev")
    body = json.loads(http.http.get("/console/config.json", headers={"Host": "127.0.0.1:8000"}).body)
    assert body["tokens"] is None and body["local"] is False


@pytest.mark.usefixtures("local_settings")
@pytest.mark.parametrize("host", ["192.168.1.20:8000", "kadr.example.com", "127.0.0.1.example.com", ""])
def test_the_local_stack_gives_no_tokens_to_a_page_not_on_loopback(http, monkeypatch, host: str) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    headers = {"Host": host} if host else {}
    body = json.loads(http.http.get("/console/config.json", headers=headers).body)
    assert body["tokens"] is None and body["local"] is False


def test_the_page_works_under_a_stage_path(aws: provider.Provider) -> None:
    html, _ = console.page("https://abc.execute-api.eu-west-1.amazonaws.com/api")
    assert '<base href="/api/">' in html
    html, _ = console.page("http://127.0.0.1:8000")
    assert '<base href="/">' in html


def test_the_browser_channel_is_derived_from_the_management_endpoint() -> None:
    assert console.ws_from_management("https://abc123.execute-api.eu-west-1.amazonaws.com/api") == \
        "wss://abc123.execute-api.eu-west-1.amazonaws.com/api"
    assert console.ws_from_management("http://127.0.0.1:8001") == "ws://127.0.0.1:8001"
    assert console.ws_from_management(None) is None and console.ws_from_management("ftp://x") is None

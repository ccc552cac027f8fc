"""The page list: cursor pages both ways, a case-insensitive title prefix, and no Scan."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.provider import settings
from tests.helpers import Api, AwsCall, watch_aws_calls


@pytest.fixture(scope="module")
def catalog(api: Api) -> dict[str, list[str]]:
    """25 pages under a unique prefix, created once for the module."""
    tag = f"zz{uuid.uuid4().hex[:8]}"
    titles = [f"{tag} Page {n:02d}" for n in range(25)]
    ids = [api.create_page(t)["id"] for t in titles]
    api.create_page(f"{tag.upper()} shouting {uuid.uuid4().hex[:4]}")
    return {"tag": [tag], "titles": titles, "ids": ids}


def _path(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def test_forward_and_back_through_cursor_pages(api: Api, catalog: dict) -> None:
    tag = catalog["tag"][0]
    first = api.get(f"/pages?limit=10&title={tag}%20page").json()
    assert first["count"] == 25 and first["previous"] is None
    assert [r["title"] for r in first["results"]] == catalog["titles"][:10]
    second = api.get(_path(first["next"])).json()
    assert [r["title"] for r in second["results"]] == catalog["titles"][10:20]
    third = api.get(_path(second["next"])).json()
    assert [r["title"] for r in third["results"]] == catalog["titles"][20:] and third["next"] is None
    back = api.get(_path(third["previous"])).json()
    assert [r["title"] for r in back["results"]] == catalog["titles"][10:20]
    start = api.get(_path(back["previous"])).json()
    assert [r["title"] for r in start["results"]] == catalog["titles"][:10] and start["previous"] is None
    assert parse_qs(urlparse(first["next"]).query)["title"] == [f"{tag} page"]


def test_each_result_links_its_absolute_detail_url(api: Api, catalog: dict) -> None:
    listing = api.get(f"/pages?limit=3&title={catalog['tag'][0]}").json()
    for result in listing["results"]:
        assert result["url"] == f"{api.base}/pages/{result['id']}"
        assert api.get(urlparse(result["url"]).path).json()["title"] == result["title"]


def test_title_prefix_is_case_insensitive(api: Api, catalog: dict) -> None:
    tag = catalog["tag"][0]
    upper = api.get(f"/pages?limit=100&title={tag.upper()}").json()
    assert upper["count"] == 26
    assert any("shouting" in r["title"] for r in upper["results"])
    assert api.get(f"/pages?title={tag}-nothing-matches").json() == {
        "count": 0, "next": None, "previous": None, "results": []}


def _scans(calls: list[AwsCall]) -> list[AwsCall]:
    return [c for c in calls if c.service == "dynamodb" and c.operation == "Scan"]


def test_listing_never_scans(api: Api, catalog: dict) -> None:
    with watch_aws_calls() as calls:
        api.get("/pages?limit=5")
        api.get(f"/pages?limit=5&title={catalog['tag'][0]}")
    assert _scans(calls) == []
    queries = [c for c in calls if c.operation == "Query" and c.params.get("IndexName") == "by_title"]
    assert len(queries) >= 4  # per listing: the page of results and its count


def test_the_scan_watcher_sees_every_client(api: Api) -> None:
    """A Scan through a client other than PynamoDB's (made before or during the block) is caught."""
    from chalicelib.db import dynamodb
    from chalicelib.provider import client, current

    other = client("dynamodb")
    assert other is not dynamodb()
    fresh = current().connection.session.create_client(
        "dynamodb", region_name=settings().region, endpoint_url=settings().aws_endpoint)
    with watch_aws_calls() as calls:
        other.scan(TableName=settings().pages_table, Limit=1)
        fresh.scan(TableName=settings().pages_table, Limit=1)
        dynamodb().scan(TableName=settings().pages_table, Limit=1)
    assert len(_scans(calls)) == 3
    assert all(c.params["TableName"] == settings().pages_table for c in _scans(calls))
    with watch_aws_calls() as calls:
        pass
    other.scan(TableName=settings().pages_table, Limit=1)  # after the block: no longer watched
    assert calls == []


def test_host_header_shapes_the_urls(api: Api, catalog: dict) -> None:
    listing = api.get(f"/pages?limit=1&title={catalog['tag'][0]}",
                      headers={"Host": "cms.example.org", "X-Forwarded-Proto": "https"}).json()
    assert listing["results"][0]["url"].startswith("https://cms.example.org/pages/")
    assert listing["next"].startswith("https://cms.example.org/pages?")

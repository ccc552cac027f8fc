"""Every page, item and edit response stays under Lambda's 6,291,456-byte payload by design.

A response leaves Lambda as a JSON string inside the runtime's JSON result, so it is measured
as that result: the python3.11 runtime escapes non-ASCII there (``\\uXXXX``), 3.12+ does not.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from chalicelib.payload import LAMBDA_PAYLOAD_LIMIT, response_cost
from chalicelib.provider import settings
from tests.helpers import Api

BUDGET = 5_500_000  # what a page may weigh at worst: ~0.8 MB of room under Lambda's limit
ID = "0123456789abcdef0123456789abcdef"
TITLE = "🎙" * 200  # the longest title, 12 bytes a character in the payload (14 by response_cost)
URL = "https://cdn.example.com/" + "%22" * 674  # 2,046 characters: as long as a URL may be
BASE = "https://" + "a" * 200 + ".example.com/api"  # a long API root for the links


def payload_size(body: str) -> int:
    """Bytes of Lambda's result for a JSON response ``body``, the larger of the two runtimes'."""
    result = {"statusCode": 200, "isBase64Encoded": False, "body": body, "headers": {
        "Content-Type": "application/json; charset=utf-8", "X-Correlation-Id": ID}}
    return max(len(json.dumps(result, ensure_ascii=True).encode()),
               len(json.dumps(result, ensure_ascii=False).encode()))


def _worst_text(cost: int) -> str:
    """The longest text within ``cost`` by response_cost, of control characters: each one weighs
    7 bytes in the payload, exactly what response_cost counts (no slack from the bound)."""
    text = "\x01" * ((cost - 6) // 7)
    assert response_cost(text) <= cost < response_cost(text + "\x01")
    return text


def _page(text: str, kinds: tuple[str, ...] = ("audio", "text")) -> tuple[Any, list[Any]]:
    """A page at capacity, built in memory: every item with the longest title, URLs and text."""
    from chalicelib.pages.content_types import AudioItem, TextItem, VideoItem
    from chalicelib.pages.models import PageRow, item_sk, page_pk
    from chalicelib.pages.schemas import AudioIn, TextIn, VideoIn

    stamp = "2026-11-23T00:00:00.000Z"
    specs = {
        "audio": (AudioItem, AudioIn(type="audio", title=TITLE, transcript=text, audio_url=URL, file_id=ID)),
        "text": (TextItem, TextIn(type="text", title=TITLE, body=text)),
        "video": (VideoItem, VideoIn(type="video", title=TITLE, video_url=URL, subtitles_url=URL, file_id=ID,
                                     subtitles_file_id=ID)),
    }
    rows = []
    for n in range(settings().max_items_per_page):
        row_cls, spec = specs[kinds[n % len(kinds)]]
        assert len(spec.title) == 200 and all(len(str(u)) <= 2048 for u in (spec.model_dump(mode="json").values())
                                              if isinstance(u, str) and u.startswith("https:"))
        values = spec.model_dump(mode="json", exclude={"type", "title"})
        rows.append(row_cls(page_pk(ID), item_sk(f"{n:032x}"), title=spec.title, views=10**15, created_at=stamp,
                            updated_at=stamp, **values))
    page = PageRow(page_pk(ID), "META", title=TITLE, title_key="x", created_at=stamp, updated_at=stamp,
                   item_ids=[r.item_id for r in rows])
    return page, rows


def _render(page: Any, rows: list[Any]) -> tuple[dict[str, Any], str]:
    from chalicelib.http import to_json
    from chalicelib.pages import store

    body = store.render(page, rows, BASE)
    return body, to_json(body)


def test_worst_case_page_within_the_response_threshold_stays_under_the_budget(monkeypatch) -> None:
    """50 items, every text at the response threshold (64 KiB by response_cost) with worst-case
    escaping, 200-character titles of emoji, 2,048-character URLs, a long API root. The storage
    threshold (8 KiB) is lifted here so that the response threshold alone bounds the page."""
    from chalicelib.pages import store

    lifted = dataclasses.replace(settings(), inline_text_max=10**9)
    monkeypatch.setattr(store, "settings", lambda: lifted)
    text = _worst_text(settings().inline_text_response_max)
    for kinds in (("audio",), ("text",), ("audio", "text", "video")):
        body, serialized = _render(*_page(text, kinds))
        assert all(i.get("transcript", i.get("body", text)) == text for i in body["items"])  # all inline
        size = payload_size(serialized)
        print(f"worst case at the response threshold, items {kinds}: {len(serialized.encode())} bytes of JSON, "
              f"{size} bytes of Lambda payload")
        assert size < BUDGET < LAMBDA_PAYLOAD_LIMIT

    # one character more and every text is served by link instead: the page is then small
    body, serialized = _render(*_page(text + "\x01"))
    assert all(i.get("transcript", i.get("body")) is None for i in body["items"])
    assert all(i.get("transcript_url", i.get("body_url")).startswith(BASE) for i in body["items"])
    print(f"the same page linked: {payload_size(serialized)} bytes of Lambda payload")
    assert payload_size(serialized) < 500_000


def test_worst_case_page_as_stored_by_default_stays_under_the_budget() -> None:
    """With the defaults the storage threshold binds first: 8 KiB of control characters is the
    most a text kept inline can weigh (57 KB in the payload)."""
    text = "\x01" * settings().inline_text_max
    for kinds in (("audio",), ("text",), ("video",), ("audio", "text", "video")):
        body, serialized = _render(*_page(text, kinds))
        assert all(i.get("transcript", i.get("body", "")) is not None for i in body["items"])
        size = payload_size(serialized)
        print(f"worst case by default, items {kinds}: {size} bytes of Lambda payload")
        assert size < BUDGET


def test_every_inline_stored_text_is_within_the_response_threshold() -> None:
    """No text DynamoDB may hold (<= inline_text_max UTF-8 bytes) exceeds the response
    threshold, whatever its characters: so the stored shape and the answered shape agree."""
    limit = settings().inline_text_max
    for char in ("\x01", '"', "\\", "ж", "€", "🎙", "a"):
        text = char * (limit // len(char.encode()))
        assert response_cost(text) <= settings().inline_text_response_max, char


# ---------------------------------------------------------------- through HTTP

def _payload_of(response: Any) -> int:
    return payload_size(response.content.decode("utf-8"))


@pytest.fixture(scope="module")
def full_page(api: Api) -> dict[str, Any]:
    """A page at capacity through the API: every transcript as long as inline allows, of control
    characters (sent \\u-escaped by requests: ~2.5 MB of body), emoji titles, the longest URLs."""
    text = "\x01" * settings().inline_text_max
    items = [{"type": "audio", "title": TITLE, "transcript": text, "audio_url": URL, "file_id": ID}
             for _ in range(settings().max_items_per_page)]
    response = api.post("/pages", json={"title": TITLE, "items": items})
    assert response.status_code == 201, response.text[:500]
    print(f"create answer of the full page: {_payload_of(response)} bytes of Lambda payload")
    assert _payload_of(response) < BUDGET
    return {"page": response.json(), "text": text}


def test_a_full_page_of_the_longest_inline_texts_answers_under_the_budget(api: Api, full_page: dict) -> None:
    page, text = full_page["page"], full_page["text"]
    response = api.get(f"/pages/{page['id']}")
    assert response.status_code == 200
    detail = response.json()
    assert len(detail["items"]) == settings().max_items_per_page
    assert all(i["transcript"] == text and i["transcript_url"] is None for i in detail["items"])
    size = _payload_of(response)
    print(f"detail of the full page through HTTP: {len(response.content)} bytes, {size} bytes of Lambda payload")
    assert size < BUDGET


def test_item_and_edit_answers_of_the_full_page_are_small(api: Api, full_page: dict) -> None:
    page = full_page["page"]
    first = page["items"][0]
    got = api.get(f"/pages/{page['id']}/items/{first['id']}")
    assert got.status_code == 200 and _payload_of(got) < 100_000
    patched = api.patch(f"/pages/{page['id']}/items/{first['id']}", json={"title": "Shorter"})
    assert patched.status_code == 200 and _payload_of(patched) < 100_000
    assert patched.json()["transcript"] == full_page["text"]
    order = [i["id"] for i in page["items"]][::-1]
    reordered = api.put(f"/pages/{page['id']}/order", json={"items": order})
    assert reordered.status_code == 200 and _payload_of(reordered) < BUDGET


def test_a_page_with_two_4_mb_texts_answers_links_and_each_link_the_whole_text(api: Api) -> None:
    """The issue's case: two 4 MB texts made an 8.4 MB detail that Lambda refuses for every reader."""
    texts = ["абвгдежз" * 250_000, "ийклмноп" * 250_000]
    assert all(len(t.encode()) == 4_000_000 for t in texts)
    page = api.create_page("Two long texts")
    for n, text in enumerate(texts):
        data = json.dumps({"type": "text", "title": f"Part {n}", "body": text}, ensure_ascii=False).encode()
        added = api.call("POST", f"/pages/{page['id']}/items", "editor", data=data,
                         headers={"Content-Type": "application/json"})
        assert added.status_code == 201, added.text[:300]
        assert added.json()["body"] is None and _payload_of(added) < 2_000
    response = api.get(f"/pages/{page['id']}")
    assert response.status_code == 200 and _payload_of(response) < 3_000
    for item, text in zip(response.json()["items"], texts):
        assert item["body"] is None
        assert item["body_url"] == f"{api.base}/pages/{page['id']}/items/{item['id']}/text/body"
        link = api.session.get(item["body_url"], allow_redirects=False, timeout=60)
        assert link.status_code == 302 and link.content == b""  # the text never passes Lambda
        assert link.headers["Cache-Control"] == "no-store"
        got = api.session.get(link.headers["Location"], timeout=60)
        assert got.status_code == 200 and got.content.decode("utf-8") == text
        assert got.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_the_text_route_answers_short_texts_and_refuses_other_fields(api: Api, page: dict) -> None:
    audio, text = page["items"][1], page["items"][2]
    got = api.get(f"/pages/{page['id']}/items/{text['id']}/text/body")
    assert got.status_code == 200 and got.content.decode("utf-8") == "Some text"
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert api.get(f"/pages/{page['id']}/items/{audio['id']}/text/transcript").text == "Hello there"
    for path in (f"{text['id']}/text/transcript", f"{text['id']}/text/title", f"{audio['id']}/text/audio_url",
                 f"{'0' * 32}/text/body", "nope/text/body"):
        response = api.get(f"/pages/{page['id']}/items/{path}")
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"

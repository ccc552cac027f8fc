"""Text of any length: past inline_text_max it lives in S3 under server-made keys."""
from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.provider import settings
from tests.helpers import Api, assert_error

JSON_HEADERS = {"Content-Type": "application/json"}
TITLE = "Лекция «Long text»"
# ~1.6 MB of UTF-8: mostly Cyrillic, with ASCII, punctuation, newlines and a 4-byte character
TRANSCRIPT = ("Здравствуйте, это расшифровка лекции № 1. Hello, world!\n" * 18_000)[:1_000_000] + "🎙️ конец"
BODY = ("Plain ASCII paragraph; then кириллица — «кавычки».\n" * 21_000)[:1_000_020]


def _post(api: Api, path: str, payload: dict) -> Any:
    """JSON as UTF-8 (requests' json= escapes non-ASCII sixfold, which would pass the body limit)."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return api.call("POST", path, "editor", data=data, headers=JSON_HEADERS)


def _patch(api: Api, path: str, payload: dict) -> Any:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return api.call("PATCH", path, "editor", data=data, headers=JSON_HEADERS)


def _full_text(api: Api, item: dict[str, Any], field: str) -> str:
    """A long text field's text as a reader gets it: inline, or by following ``<field>_url``."""
    if item[field] is not None:
        assert item[f"{field}_url"] is None, item
        return item[field]
    response = api.session.get(item[f"{field}_url"], timeout=60)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.content.decode("utf-8")


def _raw_item(page_id: str, item_id: str) -> dict[str, Any]:
    from chalicelib.provider import client

    response = client("dynamodb").get_item(TableName=settings().pages_table,
                                           Key={"pk": {"S": f"PAGE#{page_id}"}, "sk": {"S": f"ITEM#{item_id}"}},
                                           ConsistentRead=True)
    assert "Item" in response, response
    return response["Item"]


def _size(item: dict[str, Any]) -> int:
    """An upper bound of DynamoDB's item size: names plus the JSON of the values."""
    return sum(len(name.encode()) + len(json.dumps(value, ensure_ascii=False).encode()) for name, value in item.items())


def _offloaded(item: dict[str, Any]) -> dict[str, str]:
    assert "offloaded" in item, sorted(item)
    return {name: value["S"] for name, value in item["offloaded"]["M"].items()}


def _s3_text(key: str) -> str:
    from chalicelib.provider import client

    return client("s3").get_object(Bucket=settings().media_bucket, Key=key)["Body"].read().decode("utf-8")


def _s3_keys(page_id: str) -> set[str]:
    from chalicelib.provider import client

    s3 = client("s3")
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings().media_bucket,
                                                            Prefix=f"pages/{page_id}/"):
        keys |= {obj["Key"] for obj in page.get("Contents", [])}
    return keys


def _key_pattern(page_id: str, item_id: str, field: str) -> re.Pattern[str]:
    return re.compile(rf"^pages/{page_id}/{item_id}/{field}/[0-9a-f]{{32}}\.txt$")


def _long_page(api: Api) -> dict[str, Any]:
    response = _post(api, "/pages", {"title": TITLE, "items": [
        {"type": "audio", "title": "Лекция", "transcript": TRANSCRIPT, "audio_url": "https://cdn.example.com/l.mp3"},
        {"type": "text", "title": "Конспект", "body": BODY},
    ]})
    assert response.status_code == 201, response.text[:500]
    return response.json()


def test_fixtures_are_long_and_not_ascii() -> None:
    assert len(TRANSCRIPT) >= 1_000_000 and len(BODY) >= 1_000_000
    assert len(TRANSCRIPT.encode()) > 1_500_000
    assert TRANSCRIPT.endswith("🎙️ конец")
    assert not TRANSCRIPT.isascii() and not BODY.isascii()


def test_long_texts_round_trip_intact(api: Api) -> None:
    created = _long_page(api)
    audio, text = created["items"]
    assert audio["transcript"] is None and text["body"] is None  # long: linked, not inline
    assert audio["transcript_url"] == f"{api.base}/pages/{created['id']}/items/{audio['id']}/text/transcript"
    assert text["body_url"] == f"{api.base}/pages/{created['id']}/items/{text['id']}/text/body"
    assert _full_text(api, audio, "transcript") == TRANSCRIPT
    assert _full_text(api, text, "body") == BODY
    response = api.get(f"/pages/{created['id']}")
    assert response.status_code == 200
    detail = response.json()
    assert len(response.content) < 3_000
    assert detail["items"][0]["audio_url"] == "https://cdn.example.com/l.mp3"
    assert _full_text(api, detail["items"][0], "transcript") == TRANSCRIPT
    assert _full_text(api, detail["items"][1], "body") == BODY
    item = api.get(f"/pages/{created['id']}/items/{text['id']}").json()
    assert _full_text(api, item, "body") == BODY


def test_long_texts_are_offloaded_to_s3_under_server_keys(api: Api) -> None:
    created = _long_page(api)
    page_id = created["id"]
    keys = set()
    for item, field, text in ((created["items"][0], "transcript", TRANSCRIPT), (created["items"][1], "body", BODY)):
        raw = _raw_item(page_id, item["id"])
        assert field not in raw
        offloaded = _offloaded(raw)
        assert set(offloaded) == {field}
        key = offloaded[field]
        assert _key_pattern(page_id, item["id"], field).match(key), key
        assert item["title"] not in key and TITLE not in key and text[:10] not in key
        assert _size(raw) < 4_000, _size(raw)  # DynamoDB's limit is 400 KB
        assert _s3_text(key) == text
        keys.add(key)
    assert _s3_keys(page_id) == keys


def test_short_text_stays_inline(api: Api, page: dict) -> None:
    limit = settings().inline_text_max
    at_limit = "a" * limit
    cyrillic_under_in_chars_over_in_bytes = "ж" * (limit // 2 + 1)
    created = _post(api, "/pages", {"title": "Inline", "items": [
        {"type": "text", "title": "short", "body": "Короткий текст"},
        {"type": "text", "title": "at limit", "body": at_limit},
        {"type": "audio", "title": "over in bytes", "transcript": cyrillic_under_in_chars_over_in_bytes},
    ]}).json()
    short, exact, over = created["items"]
    raw = _raw_item(created["id"], short["id"])
    assert raw["body"] == {"S": "Короткий текст"} and "offloaded" not in raw
    raw = _raw_item(created["id"], exact["id"])
    assert raw["body"] == {"S": at_limit} and "offloaded" not in raw
    raw = _raw_item(created["id"], over["id"])
    assert "transcript" not in raw and set(_offloaded(raw)) == {"transcript"}
    assert _s3_keys(created["id"]) == set(_offloaded(raw).values())
    # the conftest page's short texts are inline too
    for item in page["items"][1:]:
        assert "offloaded" not in _raw_item(page["id"], item["id"])


def test_patch_long_to_short_goes_inline_and_deletes_the_old_object(api: Api) -> None:
    created = _long_page(api)
    audio = created["items"][0]
    old_key = _offloaded(_raw_item(created["id"], audio["id"]))["transcript"]
    response = _patch(api, f"/pages/{created['id']}/items/{audio['id']}", {"transcript": "Теперь коротко"})
    assert response.status_code == 200, response.text[:500]
    assert response.json()["transcript"] == "Теперь коротко"
    raw = _raw_item(created["id"], audio["id"])
    assert raw["transcript"] == {"S": "Теперь коротко"}
    assert "offloaded" not in raw
    assert old_key not in _s3_keys(created["id"])
    assert api.get(f"/pages/{created['id']}/items/{audio['id']}").json()["transcript"] == "Теперь коротко"
    # the other item's text is untouched
    text = created["items"][1]
    assert _s3_text(_offloaded(_raw_item(created["id"], text["id"]))["body"]) == BODY


def test_patch_long_to_another_long_uses_a_new_key(api: Api) -> None:
    created = _long_page(api)
    text = created["items"][1]
    old_key = _offloaded(_raw_item(created["id"], text["id"]))["body"]
    other = "Второй вариант текста. " * 50_000
    response = _patch(api, f"/pages/{created['id']}/items/{text['id']}", {"body": other, "title": "v2"})
    assert response.status_code == 200, response.text[:500]
    assert _full_text(api, response.json(), "body") == other and response.json()["title"] == "v2"
    raw = _raw_item(created["id"], text["id"])
    new_key = _offloaded(raw)["body"]
    assert new_key != old_key
    assert _key_pattern(created["id"], text["id"], "body").match(new_key)
    assert "body" not in raw and raw["title"] == {"S": "v2"}
    assert _s3_text(new_key) == other
    assert old_key not in _s3_keys(created["id"])
    assert _full_text(api, api.get(f"/pages/{created['id']}/items/{text['id']}").json(), "body") == other


def test_patch_short_to_long_offloads(api: Api, page: dict) -> None:
    audio = page["items"][1]
    response = _patch(api, f"/pages/{page['id']}/items/{audio['id']}", {"transcript": TRANSCRIPT})
    assert response.status_code == 200, response.text[:500]
    raw = _raw_item(page["id"], audio["id"])
    assert "transcript" not in raw
    key = _offloaded(raw)["transcript"]
    assert _s3_text(key) == TRANSCRIPT
    assert _full_text(api, api.get(f"/pages/{page['id']}/items/{audio['id']}").json(), "transcript") == TRANSCRIPT


def test_patch_of_other_fields_keeps_the_offloaded_text(api: Api) -> None:
    created = _long_page(api)
    audio = created["items"][0]
    key = _offloaded(_raw_item(created["id"], audio["id"]))["transcript"]
    response = _patch(api, f"/pages/{created['id']}/items/{audio['id']}",
                      {"title": "Переименовано", "audio_url": "https://cdn.example.com/other.mp3"})
    assert response.status_code == 200, response.text[:500]
    assert _full_text(api, response.json(), "transcript") == TRANSCRIPT
    assert _offloaded(_raw_item(created["id"], audio["id"])) == {"transcript": key}
    assert _s3_text(key) == TRANSCRIPT


def test_an_invalid_patch_keeps_the_offloaded_text(api: Api) -> None:
    created = _long_page(api)
    audio = created["items"][0]
    key = _offloaded(_raw_item(created["id"], audio["id"]))["transcript"]
    assert_error(_patch(api, f"/pages/{created['id']}/items/{audio['id']}", {"transcript": ""}), 422)
    assert _offloaded(_raw_item(created["id"], audio["id"])) == {"transcript": key}
    assert _s3_keys(created["id"]) >= {key}


def test_add_item_with_long_text(api: Api, page: dict) -> None:
    response = _post(api, f"/pages/{page['id']}/items", {"type": "text", "title": "Added", "body": BODY})
    assert response.status_code == 201, response.text[:500]
    item = response.json()
    assert _full_text(api, item, "body") == BODY
    key = _offloaded(_raw_item(page["id"], item["id"]))["body"]
    assert _key_pattern(page["id"], item["id"], "body").match(key)
    assert _s3_text(key) == BODY


def test_delete_item_removes_its_text_object(api: Api) -> None:
    created = _long_page(api)
    audio, text = created["items"]
    audio_key = _offloaded(_raw_item(created["id"], audio["id"]))["transcript"]
    text_key = _offloaded(_raw_item(created["id"], text["id"]))["body"]
    assert api.delete(f"/pages/{created['id']}/items/{audio['id']}").status_code == 204
    assert _s3_keys(created["id"]) == {text_key}
    assert audio_key != text_key


def test_delete_page_removes_its_text_objects(api: Api) -> None:
    created = _long_page(api)
    assert len(_s3_keys(created["id"])) == 2
    response = api.delete(f"/pages/{created['id']}")
    assert response.status_code == 204, response.text
    assert _s3_keys(created["id"]) == set()
    assert_error(api.get(f"/pages/{created['id']}"), 404, "not_found")

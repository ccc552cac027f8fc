"""Bad input gets a 4xx with the JSON error shape, never a 500."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.provider import settings
from tests.helpers import Api, assert_error

JSON_HEADERS = {"Content-Type": "application/json"}
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
BAD_IDS = [UNKNOWN_ID, "..%2Fx", "abc", "ABCDEF0123456789ABCDEF0123456789", "%00"]


def _raw(api: Api, method: str, path: str, data: bytes | str) -> object:
    return api.call(method, path, "editor", data=data, headers=JSON_HEADERS)


def _details(err: dict) -> list[dict]:
    details = err["details"]
    assert isinstance(details, list) and details, err
    for d in details:
        assert set(d) == {"loc", "msg", "type"}, d
        assert isinstance(d["loc"], list) and isinstance(d["msg"], str) and isinstance(d["type"], str)
    return details


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _page_count(api: Api, title: str) -> int:
    return api.get("/pages", params={"title": title}).json()["count"]


# ---------------------------------------------------------------- bodies

@pytest.mark.parametrize("data", [
    b'{"title": "x"', b"{title: 'x'}", b'{"title": "x",}', b"not json", b"\xff\xfe\x00",
    b'{"title": 1' + b"0" * 5000 + b"}",
])
def test_malformed_json_is_400_invalid_json(api: Api, data: bytes) -> None:
    err = assert_error(_raw(api, "POST", "/pages", data), 400, "invalid_json")
    assert "JSON" in err["message"]


def test_deeply_nested_json_is_400_not_500(api: Api) -> None:
    deep = '{"title": "x", "items": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert_error(_raw(api, "POST", "/pages", deep), 400, "invalid_json")


@pytest.mark.parametrize("data", [b"[]", b'[{"title": "x"}]', b'"title"', b"42", b"null", b"true", b""])
def test_json_that_is_not_an_object_is_400(api: Api, page: dict, data: bytes) -> None:
    err = assert_error(_raw(api, "POST", "/pages", data), 400, "invalid_json")
    assert "object" in err["message"] or "JSON" in err["message"]
    assert_error(_raw(api, "PATCH", f"/pages/{page['id']}/items/{page['items'][0]['id']}", data), 400,
                 "invalid_json")
    assert_error(_raw(api, "PUT", f"/pages/{page['id']}/order", data), 400, "invalid_json")


@pytest.mark.parametrize("title", [42, 4.5, True, None, ["a"], {"a": 1}])
def test_title_of_the_wrong_type_is_422(api: Api, title: object) -> None:
    err = assert_error(api.post("/pages", json={"title": title}), 422, "validation_error")
    details = _details(err)
    assert [d["loc"] for d in details] == [["title"]]
    assert details[0]["type"] == "string_type"


def test_missing_or_blank_title_is_422(api: Api) -> None:
    details = _details(assert_error(api.post("/pages", json={"items": []}), 422, "validation_error"))
    assert {"loc": ["title"], "msg": "Field required", "type": "missing"} in details
    details = _details(assert_error(api.post("/pages", json={"title": "   "}), 422, "validation_error"))
    assert details[0]["loc"] == ["title"] and details[0]["type"] == "string_too_short"
    details = _details(assert_error(api.post("/pages", json={"title": "x" * 201}), 422, "validation_error"))
    assert details[0]["type"] == "string_too_long"


def test_unknown_field_on_a_page_is_422(api: Api) -> None:
    details = _details(assert_error(api.post("/pages", json={"title": "Extra field", "author": "me"}), 422))
    assert {"loc": ["author"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"} in details
    assert _page_count(api, "Extra field") == 0


def test_items_that_are_not_a_list_are_422(api: Api) -> None:
    for items in ("text", {"type": "text"}, None, [1], [None]):
        _details(assert_error(api.post("/pages", json={"title": "x", "items": items}), 422, "validation_error"))


def test_unknown_content_type_is_422(api: Api, page: dict) -> None:
    item = {"type": "podcast", "title": "Episode"}
    details = _details(assert_error(api.post("/pages", json={"title": "x", "items": [item]}), 422))
    assert details[0]["loc"] == ["items", 0] and details[0]["type"] == "union_tag_invalid"
    details = _details(assert_error(api.post(f"/pages/{page['id']}/items", json=item), 422))
    assert details[0]["type"] == "union_tag_invalid"
    details = _details(assert_error(api.post(f"/pages/{page['id']}/items", json={"title": "no type"}), 422))
    assert details[0]["type"] == "union_tag_not_found"


@pytest.mark.parametrize("item,loc", [
    ({"type": "text", "title": "Empty body", "body": ""}, "body"),
    ({"type": "text", "body": "No title"}, "title"),
])
def test_item_without_a_required_field_is_422(api: Api, page: dict, item: dict, loc: str) -> None:
    details = _details(assert_error(api.post(f"/pages/{page['id']}/items", json=item), 422, "validation_error"))
    assert details[0]["loc"] == [item["type"], loc]
    details = _details(assert_error(api.post("/pages", json={"title": "x", "items": [item]}), 422))
    assert details[0]["loc"] == ["items", 0, item["type"], loc]


@pytest.mark.parametrize("item,needs", [
    ({"type": "text", "title": "No body"}, "body or body_file_id"),
    ({"type": "text", "title": "Both", "body": "b", "body_file_id": UNKNOWN_ID}, "body or body_file_id"),
    ({"type": "audio", "title": "No transcript", "audio_url": "https://example.com/a.mp3"},
     "transcript or transcript_file_id"),
])
def test_a_long_text_field_needs_its_text_or_its_file_exactly(api: Api, page: dict, item: dict, needs: str) -> None:
    details = _details(assert_error(api.post(f"/pages/{page['id']}/items", json=item), 422, "validation_error"))
    assert details[0]["loc"] == [item["type"]] and needs in details[0]["msg"]
    details = _details(assert_error(api.post("/pages", json={"title": "x", "items": [item]}), 422))
    assert details[0]["loc"] == ["items", 0, item["type"]] and needs in details[0]["msg"]


def test_video_without_a_source_is_422(api: Api, page: dict) -> None:
    details = _details(assert_error(api.post(f"/pages/{page['id']}/items",
                                             json={"type": "video", "title": "Nothing"}), 422))
    assert "video_url or file_id" in details[0]["msg"]


@pytest.mark.parametrize("url", ["ftp://example.com/v.mp4", "javascript:alert(1)", "file:///etc/passwd",
                                 "example.com/v.mp4", "https://", "", "https://example.com/" + "a" * 2100])
def test_urls_must_be_http_or_https(api: Api, page: dict, url: str) -> None:
    for item in ({"type": "video", "title": "v", "video_url": url},
                 {"type": "video", "title": "v", "file_id": UNKNOWN_ID, "subtitles_url": url},
                 {"type": "audio", "title": "a", "transcript": "t", "audio_url": url}):
        details = _details(assert_error(api.post(f"/pages/{page['id']}/items", json=item), 422))
        assert details[0]["loc"][-1] in ("video_url", "subtitles_url", "audio_url")
    video = page["items"][0]
    assert_error(api.patch(f"/pages/{page['id']}/items/{video['id']}", json={"video_url": url}), 422)


@pytest.mark.parametrize("file_id", ["abc", "ABCDEF0123456789ABCDEF0123456789", UNKNOWN_ID + "0",
                                     "g" * 32, "../../" + "a" * 26, 12345])
def test_file_id_must_be_32_lowercase_hex(api: Api, page: dict, file_id: object) -> None:
    for item in ({"type": "video", "title": "v", "file_id": file_id},
                 {"type": "video", "title": "v", "video_url": "https://e.com/v", "subtitles_file_id": file_id},
                 {"type": "audio", "title": "a", "transcript": "t", "file_id": file_id}):
        details = _details(assert_error(api.post(f"/pages/{page['id']}/items", json=item), 422))
        assert details[0]["loc"][-1] in ("file_id", "subtitles_file_id")
    assert_error(api.patch(f"/pages/{page['id']}/items/{page['items'][0]['id']}", json={"file_id": file_id}), 422)


def test_invalid_text_is_refused_not_stored(api: Api, page: dict) -> None:
    """A lone surrogate cannot be stored as UTF-8: a 422, whether created or patched."""
    body = '{"title": "x", "items": [{"type": "text", "title": "t", "body": "\\ud800"}]}'
    assert _details(assert_error(_raw(api, "POST", "/pages", body), 422))[0]["type"] == "string_unicode"
    text = page["items"][2]
    patch = _raw(api, "PATCH", f"/pages/{page['id']}/items/{text['id']}", '{"body": "\\udfff"}')
    assert _details(assert_error(patch, 422))[0]["type"] == "string_unicode"


def test_oversized_body_is_413(api: Api, page: dict) -> None:
    limit = settings().max_body_bytes
    assert limit == 6_291_456 - 64 * 1024  # Lambda's event limit, less room for headers and context
    big = {"title": "Too large", "items": [{"type": "text", "title": "t", "body": "x" * 6_300_000}]}
    err = assert_error(api.post("/pages", json=big), 413, "payload_too_large")
    assert str(limit) in err["message"]
    assert "body_file_id" in err["message"] and "transcript_file_id" in err["message"]
    assert err["details"]["file_fields"] == ["body_file_id", "transcript_file_id"]
    assert err["details"]["limit"] == limit
    err = assert_error(api.post(f"/pages/{page['id']}/items", json=big["items"][0]), 413, "payload_too_large")
    patch = api.patch(f"/pages/{page['id']}/items/{page['items'][2]['id']}", json={"body": "y" * 6_300_000})
    assert_error(patch, 413, "payload_too_large")
    # even when it is not JSON at all, size is checked first
    assert_error(_raw(api, "POST", "/pages", b"z" * 6_300_000), 413, "payload_too_large")
    assert _page_count(api, "Too large") == 0


def test_the_limit_counts_the_body_as_it_weighs_in_lambdas_event(api: Api) -> None:
    """Quotes and backslashes are escaped once more inside the event: a body under the limit in
    bytes but over it there is refused, as Lambda would."""
    text = '"' * 3_200_000  # 3.2 MB of quotes: 6.4 MB as JSON, 12.8 MB in the event
    data = json.dumps({"title": "Quotes", "items": [{"type": "text", "title": "t", "body": text[:1_600_000]}]})
    assert len(data) < settings().max_body_bytes
    err = assert_error(_raw(api, "POST", "/pages", data), 413, "payload_too_large")
    assert err["details"]["event_size"] > settings().max_body_bytes > err["details"]["size"]


def test_a_body_just_under_the_limit_is_accepted(api: Api) -> None:
    body = "ж" * ((settings().max_body_bytes - 1000) // 2)
    data = json.dumps({"title": "Just under", "items": [{"type": "text", "title": "t", "body": body}]},
                      ensure_ascii=False).encode()
    assert len(data) < settings().max_body_bytes
    response = _raw(api, "POST", "/pages", data)
    assert response.status_code == 201, response.text[:500]
    item = response.json()["items"][0]
    assert item["body"] is None and item["body_url"]  # too long to answer inline: linked
    got = api.session.get(item["body_url"], timeout=60)
    assert got.status_code == 200 and got.content.decode("utf-8") == body


# ---------------------------------------------------------------- query strings

@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "-1"}, {"limit": "1000"}, {"limit": "101"}, {"limit": "abc"}, {"limit": "1.5"},
    {"foo": "1"}, {"limit": "5", "page": "2"}, {"title": ""}, {"cursor": "c" * 4097},
])
def test_bad_query_parameters_are_400(api: Api, params: dict) -> None:
    err = assert_error(api.get("/pages", params=params), 400, "invalid_query")
    details = _details(err)
    assert details[0]["loc"][0] in params


def test_limits_at_the_bounds_are_fine(api: Api) -> None:
    for limit in ("1", "100"):
        response = api.get("/pages", params={"limit": limit})
        assert response.status_code == 200, response.text
        assert len(response.json()["results"]) <= int(limit)


@pytest.mark.parametrize("cursor", [
    "garbage", "!!!!", "ж", "AAAA", _cursor({"a": 1}), _cursor([1, 2, 3]), _cursor(["n", "x"]),
    _cursor(["x", "title", UNKNOWN_ID]), _cursor(["n", 5, UNKNOWN_ID]), _cursor(["n", "title", "abc"]),
    _cursor(["n", "title", "../" + "a" * 29]), _cursor(None), _cursor("npx"),
    base64.urlsafe_b64encode(b"\xff\xfe[").decode(),
])
def test_bad_cursors_are_400_invalid_cursor(api: Api, cursor: str) -> None:
    err = assert_error(api.get("/pages", params={"cursor": cursor}), 400, "invalid_cursor")
    assert "details" not in err


def test_a_cursor_from_another_title_filter_is_refused(api: Api) -> None:
    for n in range(3):
        api.create_page(f"Cursorfilter alpha {n}")
    first = api.get("/pages", params={"title": "cursorfilter alpha", "limit": 1}).json()
    assert first["next"], first
    cursor = first["next"].split("cursor=", 1)[1]
    # the same cursor under its own filter works
    same = api.get("/pages", params={"title": "cursorfilter alpha", "limit": 1, "cursor": cursor})
    assert same.status_code == 200, same.text
    err = assert_error(api.get("/pages", params={"title": "cursorfilter beta", "limit": 1, "cursor": cursor}),
                       400, "invalid_cursor")
    assert "filter" in err["message"]


# ---------------------------------------------------------------- unknown ids

@pytest.mark.parametrize("page_id", BAD_IDS)
def test_unknown_page_is_404_on_every_route(api: Api, page_id: str) -> None:
    item_id = UNKNOWN_ID
    calls = [
        api.get(f"/pages/{page_id}"),
        api.patch(f"/pages/{page_id}", json={"title": "x"}),
        api.delete(f"/pages/{page_id}"),
        api.post(f"/pages/{page_id}/items", json={"type": "text", "title": "t", "body": "b"}),
        api.get(f"/pages/{page_id}/items/{item_id}"),
        api.patch(f"/pages/{page_id}/items/{item_id}", json={"title": "x"}),
        api.delete(f"/pages/{page_id}/items/{item_id}"),
        api.put(f"/pages/{page_id}/order", json={"items": []}),
    ]
    for response in calls:
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("item_id", BAD_IDS)
def test_unknown_item_is_404(api: Api, page: dict, item_id: str) -> None:
    base = f"/pages/{page['id']}/items/{item_id}"
    assert_error(api.get(base), 404, "not_found")
    assert_error(api.patch(base, json={"title": "x"}), 404, "not_found")
    assert_error(api.delete(base), 404, "not_found")
    assert len(api.get(f"/pages/{page['id']}").json()["items"]) == 3

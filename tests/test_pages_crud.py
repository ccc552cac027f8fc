"""Editor CRUD through HTTP: pages, items, their order, and the page's capacity."""
from __future__ import annotations

import re
import time

from chalicelib.provider import settings
from tests.helpers import Api, assert_error

# chalicelib.pages.* read the settings when imported: import them inside tests, once the stack runs.

HEX32 = re.compile(r"^[0-9a-f]{32}$")
FILE_ID = "0123456789abcdef0123456789abcdef"

ITEMS = [
    {"type": "video", "title": "Clip", "video_url": "https://cdn.example.com/clip.mp4",
     "subtitles_url": "https://cdn.example.com/clip.vtt"},
    {"type": "video", "title": "Stored clip", "file_id": FILE_ID},
    {"type": "audio", "title": "Talk", "transcript": "Hello there", "audio_url": "https://cdn.example.com/talk.mp3"},
    {"type": "text", "title": "Notes", "body": "Some text"},
]


def _fresh(api: Api, page_id: str) -> dict:
    """The detail past the 1 s page cache of the test stack."""
    time.sleep(1.1)
    response = api.get(f"/pages/{page_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _store():
    from chalicelib.pages import store

    return store


def _stored_order(page_id: str) -> list[str]:
    _, items = _store().load(page_id)
    return [row.item_id for row in items]


def _text(title: str = "t", body: str = "b") -> dict:
    return {"type": "text", "title": title, "body": body}


# ---------------------------------------------------------------- pages

def test_create_page_with_items(api: Api) -> None:
    response = api.post("/pages", json={"title": "  Created page  ", "items": ITEMS})
    assert response.status_code == 201, response.text
    body = response.json()
    assert HEX32.match(body["id"])
    assert response.headers["Location"] == f"{api.base}/pages/{body['id']}"
    assert response.headers["Location"].startswith("http://")
    assert body["title"] == "Created page"  # surrounding whitespace is stripped
    assert body["created_at"] == body["updated_at"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body["created_at"])
    assert [i["title"] for i in body["items"]] == [i["title"] for i in ITEMS]
    assert [i["type"] for i in body["items"]] == [i["type"] for i in ITEMS]
    assert all(HEX32.match(i["id"]) for i in body["items"])
    assert len({i["id"] for i in body["items"]}) == len(ITEMS)
    assert all(i["views"] == 0 for i in body["items"])
    video, stored_video, audio, text = body["items"]
    assert video["video_url"] == ITEMS[0]["video_url"]
    assert video["subtitles_url"] == ITEMS[0]["subtitles_url"]
    assert video["file_id"] is None
    assert stored_video["file_id"] == FILE_ID and stored_video["video_url"] is None
    assert audio["transcript"] == "Hello there" and audio["audio_url"] == ITEMS[2]["audio_url"]
    assert text["body"] == "Some text"
    assert _stored_order(body["id"]) == [i["id"] for i in body["items"]]


def test_create_page_without_items(api: Api) -> None:
    response = api.post("/pages", json={"title": "Empty"})
    assert response.status_code == 201, response.text
    assert response.json()["items"] == []
    detail = api.get(f"/pages/{response.json()['id']}").json()
    assert detail["items"] == [] and detail["title"] == "Empty"


def test_detail_shape(api: Api) -> None:
    created = api.create_page("Detail shape", ITEMS)
    response = api.get(f"/pages/{created['id']}")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    detail = response.json()
    assert set(detail) == {"id", "title", "created_at", "updated_at", "items"}
    assert detail["id"] == created["id"] and detail["title"] == "Detail shape"
    assert detail["created_at"] == created["created_at"]
    assert [i["id"] for i in detail["items"]] == [i["id"] for i in created["items"]]
    video, stored_video, audio, text = detail["items"]
    assert set(video) == {"id", "type", "title", "views", "video_url", "subtitles_url", "file_id",
                          "subtitles_file_id"}
    assert set(audio) == {"id", "type", "title", "views", "transcript", "transcript_url", "transcript_file_id",
                          "audio_url", "file_id"}
    assert set(text) == {"id", "type", "title", "views", "body", "body_url", "body_file_id"}
    assert stored_video["file_id"] == FILE_ID
    # short texts are inline: no link, no file
    assert audio["transcript"] == "Hello there" and audio["transcript_url"] is None
    assert audio["transcript_file_id"] is None
    assert text["body"] == "Some text" and text["body_url"] is None and text["body_file_id"] is None
    assert all(isinstance(i["views"], int) and i["views"] >= 0 for i in detail["items"])


def test_rename_page(api: Api) -> None:
    created = api.create_page("Old name", [_text()])
    time.sleep(0.01)
    response = api.patch(f"/pages/{created['id']}", json={"title": "New name"})
    assert response.status_code == 200, response.text
    renamed = response.json()
    assert renamed["title"] == "New name"
    assert renamed["updated_at"] > created["updated_at"]
    assert renamed["created_at"] == created["created_at"]
    assert [i["id"] for i in renamed["items"]] == [i["id"] for i in created["items"]]
    assert api.get(f"/pages/{created['id']}").json()["title"] == "New name"
    page, _ = _store().load(created["id"])
    assert page.title == "New name" and page.title_key == "new name"


def test_rename_rejects_unknown_fields_and_empty_titles(api: Api) -> None:
    created = api.create_page("Keep me")
    assert_error(api.patch(f"/pages/{created['id']}", json={"title": "x", "items": []}), 422, "validation_error")
    assert_error(api.patch(f"/pages/{created['id']}", json={"title": "   "}), 422, "validation_error")
    assert_error(api.patch(f"/pages/{created['id']}", json={}), 422, "validation_error")
    assert _store().load(created["id"])[0].title == "Keep me"


def test_delete_page(api: Api) -> None:
    created = api.create_page("Doomed", [_text(), _text("u")])
    assert api.get(f"/pages/{created['id']}").status_code == 200  # now cached
    response = api.delete(f"/pages/{created['id']}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_error(api.get(f"/pages/{created['id']}"), 404, "not_found")
    assert_error(api.get(f"/pages/{created['id']}/items/{created['items'][0]['id']}"), 404, "not_found")
    assert_error(api.delete(f"/pages/{created['id']}"), 404, "not_found")
    from chalicelib.pages.models import PagesTable, page_pk

    assert list(PagesTable.query(page_pk(created["id"]))) == []


# ---------------------------------------------------------------- items

def test_add_item_appends_at_the_end(api: Api, page: dict) -> None:
    new = {"type": "video", "title": "Uploaded", "file_id": FILE_ID, "subtitles_file_id": "f" * 32}
    response = api.post(f"/pages/{page['id']}/items", json=new)
    assert response.status_code == 201, response.text
    item = response.json()
    assert HEX32.match(item["id"])
    assert response.headers["Location"] == f"{api.base}/pages/{page['id']}/items/{item['id']}"
    assert item["type"] == "video" and item["title"] == "Uploaded" and item["views"] == 0
    assert item["file_id"] == FILE_ID and item["subtitles_file_id"] == "f" * 32 and item["video_url"] is None
    expected = [i["id"] for i in page["items"]] + [item["id"]]
    assert _stored_order(page["id"]) == expected
    assert [i["id"] for i in _fresh(api, page["id"])["items"]] == expected


def test_add_audio_item_with_url_and_transcript(api: Api, page: dict) -> None:
    new = {"type": "audio", "title": "Podcast", "audio_url": "https://cdn.example.com/ep1.mp3",
           "transcript": "Добрый день — and welcome."}
    response = api.post(f"/pages/{page['id']}/items", json=new)
    assert response.status_code == 201, response.text
    got = api.session.get(response.headers["Location"], timeout=60)  # the Location is absolute
    assert got.status_code == 200, got.text
    item = got.json()
    assert item["transcript"] == new["transcript"]
    assert item["audio_url"] == new["audio_url"]
    assert item["file_id"] is None


def test_get_item(api: Api, page: dict) -> None:
    audio = page["items"][1]
    response = api.get(f"/pages/{page['id']}/items/{audio['id']}")
    assert response.status_code == 200, response.text
    item = response.json()
    assert item["id"] == audio["id"] and item["type"] == "audio" and item["title"] == "Talk"
    assert item["transcript"] == "Hello there"
    assert isinstance(item["views"], int)


def test_get_item_of_another_page_is_404(api: Api, page: dict) -> None:
    other = api.create_page("Other", [_text()])
    assert_error(api.get(f"/pages/{page['id']}/items/{other['items'][0]['id']}"), 404, "not_found")


def test_patch_item_changes_only_given_fields(api: Api, page: dict) -> None:
    video = page["items"][0]
    time.sleep(0.01)
    response = api.patch(f"/pages/{page['id']}/items/{video['id']}",
                         json={"title": "Renamed clip", "subtitles_url": "https://cdn.example.com/new.vtt"})
    assert response.status_code == 200, response.text
    item = response.json()
    assert item["id"] == video["id"] and item["type"] == "video"
    assert item["title"] == "Renamed clip"
    assert item["subtitles_url"] == "https://cdn.example.com/new.vtt"
    assert item["video_url"] == "https://cdn.example.com/clip.mp4"  # kept
    stored = api.get(f"/pages/{page['id']}/items/{video['id']}").json()
    assert stored["title"] == "Renamed clip"
    assert stored["subtitles_url"] == "https://cdn.example.com/new.vtt"
    assert stored["video_url"] == "https://cdn.example.com/clip.mp4"
    page_row, _ = _store().load(page["id"])
    assert page_row.updated_at > page["updated_at"]
    detail = _fresh(api, page["id"])
    assert detail["updated_at"] > page["updated_at"]
    assert detail["items"][0]["title"] == "Renamed clip"
    assert [i["title"] for i in detail["items"][1:]] == ["Talk", "Notes"]


def test_patch_text_and_audio_fields(api: Api, page: dict) -> None:
    audio, text = page["items"][1], page["items"][2]
    response = api.patch(f"/pages/{page['id']}/items/{audio['id']}",
                         json={"transcript": "Новый текст", "audio_url": "https://cdn.example.com/a.mp3"})
    assert response.status_code == 200, response.text
    assert response.json()["transcript"] == "Новый текст"
    assert response.json()["title"] == "Talk"
    response = api.patch(f"/pages/{page['id']}/items/{text['id']}", json={"body": "Changed body", "type": "text"})
    assert response.status_code == 200, response.text
    items = {row.item_id: row for row in _store().load(page["id"])[1]}
    assert items[audio["id"]].transcript == "Новый текст"
    assert items[audio["id"]].audio_url == "https://cdn.example.com/a.mp3"
    assert items[text["id"]].body == "Changed body"
    assert items[text["id"]].title == "Notes"


def test_patch_video_from_url_to_file_id(api: Api, page: dict) -> None:
    video = page["items"][0]
    response = api.patch(f"/pages/{page['id']}/items/{video['id']}", json={"video_url": None, "file_id": FILE_ID})
    assert response.status_code == 200, response.text
    stored = api.get(f"/pages/{page['id']}/items/{video['id']}").json()
    assert stored["video_url"] is None and stored["file_id"] == FILE_ID


def test_patch_cannot_change_type(api: Api, page: dict) -> None:
    text = page["items"][2]
    err = assert_error(api.patch(f"/pages/{page['id']}/items/{text['id']}",
                                 json={"type": "audio", "transcript": "x"}), 422, "validation_error")
    assert "type" in err["message"]
    stored = api.get(f"/pages/{page['id']}/items/{text['id']}").json()
    assert stored["type"] == "text" and stored["body"] == "Some text"


def test_patch_that_makes_the_item_invalid_is_422(api: Api, page: dict) -> None:
    video = page["items"][0]
    err = assert_error(api.patch(f"/pages/{page['id']}/items/{video['id']}", json={"video_url": None}),
                       422, "validation_error")
    assert isinstance(err["details"], list) and err["details"]
    assert all({"loc", "msg", "type"} <= set(d) for d in err["details"])
    assert any("video_url or file_id" in d["msg"] for d in err["details"])
    audio = page["items"][1]
    err = assert_error(api.patch(f"/pages/{page['id']}/items/{audio['id']}", json={"transcript": None}), 422)
    assert any("transcript or transcript_file_id" in d["msg"] for d in err["details"]), err
    err = assert_error(api.patch(f"/pages/{page['id']}/items/{audio['id']}", json={"title": ""}), 422)
    assert any(d["loc"] == ["title"] for d in err["details"])
    stored = api.get(f"/pages/{page['id']}/items/{video['id']}").json()
    assert stored["video_url"] == "https://cdn.example.com/clip.mp4"
    assert api.get(f"/pages/{page['id']}/items/{audio['id']}").json()["transcript"] == "Hello there"


def test_patch_with_unknown_field_is_422(api: Api, page: dict) -> None:
    text = page["items"][2]
    for patch in ({"colour": "red"}, {"views": 100}, {"id": "0" * 32}, {"transcript": "not a text field"}):
        err = assert_error(api.patch(f"/pages/{page['id']}/items/{text['id']}", json=patch), 422, "validation_error")
        assert any(d["type"] == "extra_forbidden" and d["loc"] == [next(iter(patch))] for d in err["details"]), err
    row = {r.item_id: r for r in _store().load(page["id"])[1]}[text["id"]]
    assert row.body == "Some text" and int(row.views) < 100


def test_delete_item(api: Api, page: dict) -> None:
    audio = page["items"][1]
    api.get(f"/pages/{page['id']}")  # cache the detail: the delete must still show
    response = api.delete(f"/pages/{page['id']}/items/{audio['id']}")
    assert response.status_code == 204, response.text
    assert_error(api.get(f"/pages/{page['id']}/items/{audio['id']}"), 404, "not_found")
    assert_error(api.delete(f"/pages/{page['id']}/items/{audio['id']}"), 404, "not_found")
    assert_error(api.patch(f"/pages/{page['id']}/items/{audio['id']}", json={"title": "x"}), 404, "not_found")
    remaining = [page["items"][0]["id"], page["items"][2]["id"]]
    assert _stored_order(page["id"]) == remaining
    assert [i["id"] for i in api.get(f"/pages/{page['id']}").json()["items"]] == remaining


# ---------------------------------------------------------------- order

def test_reorder(api: Api, page: dict) -> None:
    ids = [i["id"] for i in page["items"]]
    order = [ids[2], ids[0], ids[1]]
    response = api.put(f"/pages/{page['id']}/order", json={"items": order})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [i["id"] for i in body["items"]] == order
    assert [i["title"] for i in body["items"]] == ["Notes", "Clip", "Talk"]
    assert body["updated_at"] > page["updated_at"]
    assert _stored_order(page["id"]) == order
    assert [i["id"] for i in _fresh(api, page["id"])["items"]] == order
    # a later append goes after the new order
    added = api.post(f"/pages/{page['id']}/items", json=_text("Last")).json()
    assert _stored_order(page["id"]) == order + [added["id"]]


def test_reorder_errors_list_missing_unknown_and_repeated(api: Api, page: dict) -> None:
    ids = [i["id"] for i in page["items"]]
    unknown = "a" * 32
    url = f"/pages/{page['id']}/order"

    err = assert_error(api.put(url, json={"items": ids[:2]}), 422, "validation_error")
    assert err["details"] == {"missing": [ids[2]], "unknown": [], "repeated": []}

    err = assert_error(api.put(url, json={"items": [*ids, unknown]}), 422, "validation_error")
    assert err["details"] == {"missing": [], "unknown": [unknown], "repeated": []}

    err = assert_error(api.put(url, json={"items": [ids[0], ids[0], ids[1], ids[2]]}), 422, "validation_error")
    assert err["details"] == {"missing": [], "unknown": [], "repeated": [ids[0]]}

    err = assert_error(api.put(url, json={"items": [ids[1], ids[1], unknown]}), 422, "validation_error")
    assert err["details"] == {"missing": [ids[0], ids[2]], "unknown": [unknown], "repeated": [ids[1]]}

    err = assert_error(api.put(url, json={"items": []}), 422, "validation_error")
    assert err["details"]["missing"] == ids

    assert _stored_order(page["id"]) == ids


def test_reorder_rejects_malformed_ids(api: Api, page: dict) -> None:
    err = assert_error(api.put(f"/pages/{page['id']}/order", json={"items": ["not-an-id"]}), 422, "validation_error")
    assert err["details"][0]["loc"] == ["items", 0]
    assert_error(api.put(f"/pages/{page['id']}/order", json={}), 422, "validation_error")


# ---------------------------------------------------------------- capacity

def test_creating_a_page_over_capacity_is_refused_by_the_schema(api: Api) -> None:
    limit = settings().max_items_per_page
    assert limit == 50
    items = [_text(f"item {n}") for n in range(limit + 1)]
    err = assert_error(api.post("/pages", json={"title": "Too big", "items": items}), 422, "validation_error")
    assert err["details"][0]["loc"] == ["items"] and str(limit) in err["details"][0]["msg"]
    listed = api.get("/pages", params={"title": "Too big"}).json()
    assert listed["count"] == 0


def test_a_page_holds_exactly_its_capacity(api: Api) -> None:
    limit = settings().max_items_per_page
    full = api.create_page("Full page", [_text(f"item {n}") for n in range(limit)])
    assert len(full["items"]) == limit
    err = assert_error(api.post(f"/pages/{full['id']}/items", json=_text("one more")), 422, "page_full")
    assert str(limit) in err["message"]
    assert len(_stored_order(full["id"])) == limit
    # after a delete there is room again
    assert api.delete(f"/pages/{full['id']}/items/{full['items'][0]['id']}").status_code == 204
    assert api.post(f"/pages/{full['id']}/items", json=_text("fits")).status_code == 201
    assert_error(api.post(f"/pages/{full['id']}/items", json=_text("no room")), 422, "page_full")
    assert len(_stored_order(full["id"])) == limit


# ---------------------------------------------------------------- titles near DynamoDB's key limit

# "ΐ" casefolds to three code points (6 UTF-8 bytes): 200 of them make a 1,200-byte fold, past
# the 1,024 bytes DynamoDB allows a sort key. This answered 500 before title_sort_key cut it.
LONG_FOLD_TITLE = "ΐ" * 200


def _stored_title_key(page_id: str) -> str:
    from chalicelib.provider import client

    raw = client("dynamodb").get_item(TableName=settings().pages_table, ConsistentRead=True,
                                      Key={"pk": {"S": f"PAGE#{page_id}"}, "sk": {"S": "META"}})["Item"]
    return raw["title_key"]["S"]


def test_a_title_whose_fold_exceeds_the_key_limit_is_created_and_renamed(api: Api) -> None:
    assert len(LONG_FOLD_TITLE.casefold().encode()) > 1024
    response = api.post("/pages", json={"title": LONG_FOLD_TITLE})
    assert response.status_code == 201, response.text
    page_id = response.json()["id"]
    assert response.json()["title"] == LONG_FOLD_TITLE  # the title itself is kept whole
    key = _stored_title_key(page_id)
    assert len(key.encode()) <= 1024 and LONG_FOLD_TITLE.casefold().startswith(key)

    renamed = "\u03b0" * 200  # "ΰ": another title whose fold (ΰ) takes 6 bytes a character
    response = api.patch(f"/pages/{page_id}", json={"title": renamed})
    assert response.status_code == 200, response.text
    assert response.json()["title"] == renamed
    # moto checks no sort key on updates: the stored bytes are the evidence
    key = _stored_title_key(page_id)
    assert len(key.encode()) <= 1024 and renamed.casefold().startswith(key)
    assert api.get(f"/pages/{page_id}").json()["title"] == renamed


def test_pages_with_long_folded_titles_are_listed_and_found_by_prefix(api: Api) -> None:
    tag = f"ΐ{time.time_ns()}"
    titles = [(tag + "ΐ" * 200)[:200], (tag + "\u03b0" * 200)[:200]]
    assert all(len(t.casefold().encode()) > 1024 for t in titles)
    created = [api.create_page(t)["id"] for t in titles]
    ids = set(created)
    for prefix in (tag, tag.upper()):
        listed = api.get("/pages", params={"title": prefix, "limit": 100}).json()
        assert {r["id"] for r in listed["results"]} == ids, prefix
        assert listed["count"] == 2
    for title, page_id in zip(titles, created):  # a prefix as long as the whole title, cut alike
        listed = api.get("/pages", params={"title": title, "limit": 100}).json()
        assert [r["id"] for r in listed["results"]] == [page_id] and listed["count"] == 1
    first = api.get("/pages", params={"title": tag, "limit": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    from urllib.parse import urlparse

    parsed = urlparse(first["next"])
    second = api.get(f"{parsed.path}?{parsed.query}").json()  # the cursor carries the cut key
    assert {r["id"] for r in first["results"] + second["results"]} == ids


# ---------------------------------------------------------------- order bounds

def test_an_order_of_40000_ids_is_a_fast_422(api: Api, page: dict) -> None:
    """Bounded by the page's capacity in the schema: refused before the page is even read."""
    order = [f"{n:032x}" for n in range(40_000)]
    response = api.put(f"/pages/{page['id']}/order", json={"items": order})
    err = assert_error(response, 422, "validation_error")
    assert len(err["details"]) == 1
    assert err["details"][0]["loc"] == ["items"] and err["details"][0]["type"] == "too_long"
    assert str(settings().max_items_per_page) in err["details"][0]["msg"]
    assert len(response.content) < 2_000  # no echo of the 40,000 ids
    assert _stored_order(page["id"]) == [i["id"] for i in page["items"]]


def test_an_order_at_capacity_with_repeats_missing_and_unknown_ids_lists_them(api: Api) -> None:
    limit = settings().max_items_per_page
    full = api.create_page("Order at capacity", [_text(f"item {n}") for n in range(limit)])
    ids = [i["id"] for i in full["items"]]
    unknown = ["e" * 32, "f" * 32]
    order = [ids[0], ids[0], ids[1], ids[1], ids[1], *ids[5:limit - 2], *unknown]
    assert len(order) == limit
    err = assert_error(api.put(f"/pages/{full['id']}/order", json={"items": order}), 422, "validation_error")
    assert err["details"] == {"missing": [ids[2], ids[3], ids[4], ids[limit - 2], ids[limit - 1]],
                              "unknown": unknown, "repeated": sorted([ids[0], ids[1]])}
    reversed_order = ids[::-1]
    response = api.put(f"/pages/{full['id']}/order", json={"items": reversed_order})
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == reversed_order

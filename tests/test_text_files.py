"""Text of any length: inline up to what Lambda's event takes, longer as an uploaded text file."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.provider import settings
from tests.helpers import Api, assert_error, upload_file

MIB = 1024 * 1024
LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
# 1 MiB of Cyrillic UTF-8 (524,288 letters): requests' json= sends it as 3 MiB of \u escapes
CYRILLIC_MIB = (LETTERS * (MIB // 2 // len(LETTERS) + 1))[:MIB // 2]
# 1 Mi Cyrillic letters (2 MiB of UTF-8): 6 MiB \u-escaped, past what Lambda's event can carry
CYRILLIC_MI_LETTERS = (LETTERS * (MIB // len(LETTERS) + 1))[:MIB]


def _full_text(api: Api, item: dict[str, Any], field: str) -> str:
    if item[field] is not None:
        return item[field]
    response = api.session.get(item[f"{field}_url"], timeout=60)
    assert response.status_code == 200, response.text[:300]
    return response.content.decode("utf-8")


def _utf8_post(api: Api, path: str, payload: dict) -> Any:
    data = json.dumps(payload, ensure_ascii=False).encode()
    return api.call("POST", path, "editor", data=data, headers={"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def text_file(api: Api) -> dict[str, Any]:
    """The 1 Mi-letter transcript uploaded by an uploader as a text/plain screenplay."""
    return upload_file(api, CYRILLIC_MI_LETTERS.encode(), filename="Расшифровка.txt")


def test_fixtures() -> None:
    assert len(CYRILLIC_MIB.encode()) == MIB and len(CYRILLIC_MI_LETTERS) == MIB
    assert len(json.dumps(CYRILLIC_MI_LETTERS)) > 6 * MIB


def test_one_mib_of_cyrillic_sent_with_requests_json_escaping_is_accepted(api: Api, page: dict) -> None:
    item = {"type": "audio", "title": "Расшифровка", "transcript": CYRILLIC_MIB}
    response = api.post(f"/pages/{page['id']}/items", json=item)  # \u-escaped: 3 MiB of body
    assert len(response.request.body) > 3 * MIB
    assert response.status_code == 201, response.text[:500]
    created = response.json()
    assert created["transcript"] is None and created["transcript_file_id"] is None
    assert _full_text(api, created, "transcript") == CYRILLIC_MIB


def test_a_mebi_letter_transcript_escaped_is_413_naming_the_file_fields(api: Api, page: dict) -> None:
    item = {"type": "audio", "title": "Расшифровка", "transcript": CYRILLIC_MI_LETTERS}
    response = api.post(f"/pages/{page['id']}/items", json=item)
    assert len(response.request.body) > 6 * MIB  # no limit could take it: Lambda's event is 6 MiB
    err = assert_error(response, 413, "payload_too_large")
    assert "transcript_file_id" in err["message"] and "body_file_id" in err["message"]
    assert "POST /files" in err["message"] and str(settings().max_body_bytes) in err["message"]
    # the same text as UTF-8 JSON is 2 MiB and goes inline
    response = _utf8_post(api, f"/pages/{page['id']}/items", item)
    assert response.status_code == 201, response.text[:500]
    assert _full_text(api, response.json(), "transcript") == CYRILLIC_MI_LETTERS


def test_a_transcript_and_a_body_can_be_uploaded_files(api: Api, text_file: dict) -> None:
    stored = ("processing", "ready", "db_ready")  # the built-in analyzer may already be past processing
    assert text_file["status"] in stored and text_file["kind"] == "screenplay"
    created = api.create_page("From files", [
        {"type": "audio", "title": "Лекция", "transcript_file_id": text_file["id"],
         "audio_url": "https://cdn.example.com/l.mp3"},
        {"type": "text", "title": "Конспект", "body_file_id": text_file["id"]},
    ])
    for item, field in zip(created["items"], ("transcript", "body")):
        assert item[field] is None and item[f"{field}_file_id"] == text_file["id"]
        assert item[f"{field}_url"] == f"{api.base}/pages/{created['id']}/items/{item['id']}/text/{field}"
    detail = api.get(f"/pages/{created['id']}")
    assert detail.status_code == 200 and len(detail.content) < 3_000
    for item, field in zip(detail.json()["items"], ("transcript", "body")):
        link = api.session.get(item[f"{field}_url"], allow_redirects=False, timeout=60)
        assert link.status_code == 302
        assert _full_text(api, item, field) == CYRILLIC_MI_LETTERS
    # the referenced file is the uploader's still: deleting the page leaves it
    assert api.delete(f"/pages/{created['id']}").status_code == 204
    kept = api.get(f"/files/{text_file['id']}", role="uploader")
    assert kept.status_code == 200 and kept.json()["status"] in stored


def test_patch_switches_between_inline_text_and_a_file(api: Api, page: dict, text_file: dict) -> None:
    from tests.test_long_text import _offloaded, _raw_item, _s3_keys

    text = page["items"][2]
    path = f"/pages/{page['id']}/items/{text['id']}"
    long_text = "Длинный текст. " * 2_000
    response = _utf8_post(api, f"/pages/{page['id']}/items", {"type": "text", "title": "Long", "body": long_text})
    long_item = response.json()
    key = _offloaded(_raw_item(page["id"], long_item["id"]))["body"]

    # naming a file clears the inline text
    response = api.patch(path, json={"body_file_id": text_file["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["body"] is None and response.json()["body_file_id"] == text_file["id"]
    raw = _raw_item(page["id"], text["id"])
    assert "body" not in raw and raw["body_file_id"] == {"S": text_file["id"]}
    assert _full_text(api, api.get(path).json(), "body") == CYRILLIC_MI_LETTERS

    # giving a text clears the file
    response = api.patch(path, json={"body": "Снова текст"})
    assert response.status_code == 200, response.text
    assert response.json() | {"views": 0} == response.json() | {
        "views": 0, "body": "Снова текст", "body_url": None, "body_file_id": None}
    assert "body_file_id" not in _raw_item(page["id"], text["id"])

    # a file in place of an offloaded text: the S3 copy goes
    long_path = f"/pages/{page['id']}/items/{long_item['id']}"
    response = api.patch(long_path, json={"body_file_id": text_file["id"]})
    assert response.status_code == 200, response.text
    assert key not in _s3_keys(page["id"])
    assert "offloaded" not in _raw_item(page["id"], long_item["id"])

    # both at once is ambiguous
    err = assert_error(api.patch(path, json={"body": "x", "body_file_id": text_file["id"]}), 422)
    assert "exactly one" in err["details"][0]["msg"]
    # a patch of another field keeps the file
    assert api.patch(long_path, json={"title": "Renamed"}).json()["body_file_id"] == text_file["id"]


@pytest.mark.parametrize("case", ["unknown", "video", "pdf", "pending"])
def test_only_stored_text_files_may_stand_for_a_text(api: Api, page: dict, case: str) -> None:
    if case == "unknown":
        file_id = "0123456789abcdef0123456789abcdef"
    elif case == "video":
        file_id = upload_file(api, b"\x00" * 1000, kind="video", content_type="video/mp4", filename="v.mp4")["id"]
    elif case == "pdf":
        file_id = upload_file(api, b"%PDF-1.4", kind="screenplay", content_type="application/pdf",
                              filename="s.pdf")["id"]
    else:
        response = api.post("/files", role="uploader", json={"filename": "t.txt", "size": 10,
                                                             "content_type": "text/plain", "kind": "screenplay"})
        file_id = response.json()["id"]
    for body in ({"type": "text", "title": "t", "body_file_id": file_id},
                 {"type": "audio", "title": "a", "transcript_file_id": file_id}):
        err = assert_error(api.post(f"/pages/{page['id']}/items", json=body), 422, "invalid_text_file")
        assert err["details"]["file_id"] == file_id
        assert err["details"]["field"] in ("body_file_id", "transcript_file_id")
    err = assert_error(api.post("/pages", json={"title": "Refused", "items": [
        {"type": "text", "title": "t", "body_file_id": file_id}]}), 422, "invalid_text_file")
    if case == "pending":
        assert err["details"]["status"] == "pending"
    text = page["items"][2]
    assert_error(api.patch(f"/pages/{page['id']}/items/{text['id']}", json={"body_file_id": file_id}), 422,
                 "invalid_text_file")
    assert api.get(f"/pages/{page['id']}/items/{text['id']}").json()["body"] == "Some text"


def test_a_file_that_failed_after_it_was_named_is_a_404_at_its_link(api: Api, page: dict) -> None:
    from chalicelib.status import FileStatus, transition
    from chalicelib.uploads.models import FileRow

    file = upload_file(api, "Текст".encode(), filename="short.txt")
    item = api.post(f"/pages/{page['id']}/items", json={"type": "text", "title": "t", "body_file_id": file["id"]})
    assert item.status_code == 201, item.text
    assert transition(FileRow.get(file["id"]), FileStatus.ERROR, actions=[FileRow.error.set("test")])
    err = assert_error(api.get(item.json()["body_url"].removeprefix(api.base)), 404, "not_found")
    assert "not available" in err["message"]

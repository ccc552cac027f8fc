"""Presigned multipart uploads: the API, the S3 event that moves a file to processing, the sweeper."""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests

from chalicelib.auth import issue_token
from chalicelib.provider import client, settings
from chalicelib.uploads import events
from chalicelib.uploads.models import FileRow
from chalicelib.uploads.service import content_disposition
from infra.emulators import LambdaContext
from tests.helpers import Api, assert_error, upload_parts, wait_until_stored

MIB = 1024 * 1024


def _body(size: int, **extra: Any) -> dict[str, Any]:
    return {"filename": "Сценарий — draft 1.txt", "size": size, "content_type": "text/plain", "kind": "screenplay",
            **extra}


def _create(api: Api, size: int, role: str = "uploader", **extra: Any) -> dict[str, Any]:
    response = api.post("/files", role=role, json=_body(size, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def _open_uploads(key: str) -> list[dict[str, Any]]:
    listing = client("s3").list_multipart_uploads(Bucket=settings().media_bucket, Prefix=key)
    return listing.get("Uploads", [])


def test_create_plans_the_upload_under_a_server_made_key(api: Api) -> None:
    response = api.post("/files", role="uploader", json=_body(12 * MIB, target_audience="16+"))
    assert response.status_code == 201
    file = response.json()
    assert response.headers["Location"] == f"{api.base}/files/{file['id']}"
    assert file["status"] == "pending" and file["status_label"] == "--------"
    assert file["filename"] == "Сценарий — draft 1.txt" and file["target_audience"] == "16+"
    assert file["upload"]["part_size"] == 5 * MIB and file["upload"]["part_count"] == 3
    uploads = _open_uploads(f"uploads/{file['id']}")
    assert [u["Key"] for u in uploads] == [f"uploads/{file['id']}"]
    assert uploads[0]["UploadId"] == file["upload"]["upload_id"]


def test_part_size_grows_so_10000_parts_hold_the_largest_file(api: Api) -> None:
    file = _create(api, 50 * 1024 ** 3, content_type="video/mp4", kind="video")
    plan = file["upload"]
    assert plan["part_size"] >= 5 * MIB and plan["part_count"] <= 10000
    assert plan["part_size"] * plan["part_count"] >= 50 * 1024 ** 3


def test_create_is_idempotent_on_the_idempotency_key(api: Api) -> None:
    headers = {"Idempotency-Key": f"key-{os.urandom(4).hex()}"}
    first = api.post("/files", role="uploader", json=_body(6 * MIB), headers=headers)
    again = api.post("/files", role="uploader", json=_body(6 * MIB), headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["upload"]["upload_id"] == first.json()["upload"]["upload_id"]
    assert len(_open_uploads(f"uploads/{first.json()['id']}")) == 1
    other = api.post("/files", role="uploader", json=_body(7 * MIB), headers=headers)
    assert_error(other, 422, "idempotency_key_reused")
    assert api.post("/files", role="uploader", json=_body(6 * MIB)).json()["id"] != first.json()["id"]


@pytest.mark.parametrize("change,code", [
    ({"size": 0}, "validation_error"), ({"size": -5}, "validation_error"),
    ({"size": 50 * 1024 ** 3 + 1}, "file_too_large"), ({"kind": "hologram"}, "validation_error"),
    ({"content_type": "application/x-msdownload"}, "unsupported_content_type"),
    ({"kind": "audio"}, "unsupported_content_type"), ({"sha256": "xyz"}, "validation_error"),
    ({"filename": "../../"}, "validation_error"), ({"filename": "a\x00b"}, "validation_error"),
    ({"target_audience": "21+"}, "validation_error"), ({"extra": 1}, "validation_error"),
])
def test_bad_create_requests_are_4xx(api: Api, change: dict, code: str) -> None:
    assert_error(api.post("/files", role="uploader", json={**_body(MIB), **change}), 422, code)


def test_file_name_is_metadata_only(api: Api) -> None:
    file = _create(api, MIB, filename="../../etc/passwd")
    assert file["filename"] == "passwd"
    assert json.dumps(_open_uploads(f"uploads/{file['id']}"), default=str).count("passwd") == 0


@pytest.mark.parametrize("numbers", [[0], [10001], [4], [], list(range(1, 102))])
def test_bad_part_numbers_are_422(api: Api, numbers: list[int]) -> None:
    file = _create(api, 12 * MIB)
    assert_error(api.post(f"/files/{file['id']}/parts", role="uploader", json={"part_numbers": numbers}), 422)


def test_presigned_urls_are_sigv4_scoped_short_lived_and_checksum_free(api: Api) -> None:
    file = _create(api, 12 * MIB)
    md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="
    parts = api.post(f"/files/{file['id']}/parts", role="uploader",
                     json={"part_numbers": [2, 1], "content_md5": {"2": md5}}).json()["parts"]
    assert [p["part_number"] for p in parts] == [1, 2]
    for part in parts:
        url = urlparse(part["url"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert unquote(url.path).endswith(f"/uploads/{file['id']}")
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and int(query["X-Amz-Expires"]) <= 900
        assert query["partNumber"] == str(part["part_number"]) and query["uploadId"] == file["upload"]["upload_id"]
        assert not any("checksum" in k.lower() for k in query)
    assert parts[1]["headers"] == {"Content-MD5": md5} and "content-md5" in parse_qs(
        urlparse(parts[1]["url"]).query)["X-Amz-SignedHeaders"][0]
    assert parts[0]["headers"] == {}


def test_full_upload_moves_to_processing_once(api: Api, stack) -> None:
    data = os.urandom(12 * MIB)
    file = _create(api, len(data), sha256=hashlib.sha256(data).hexdigest())
    parts = upload_parts(api, file, data)
    stored = api.get(f"/files/{file['id']}/parts", role="uploader").json()["parts"]
    assert [(p["part_number"], p["size"]) for p in stored] == [(1, 5 * MIB), (2, 5 * MIB), (3, 2 * MIB)]
    done = api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": list(reversed(parts))})
    assert done.status_code == 200 and "upload" not in done.json()
    assert wait_until_stored(api, file["id"])["status"] == "processing"
    body = client("s3").get_object(Bucket=settings().media_bucket, Key=f"uploads/{file['id']}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == file["sha256"]
    again = api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": parts})
    assert again.status_code == 200 and again.json()["status"] == "processing"
    download = api.get(f"/files/{file['id']}/download", role="uploader", allow_redirects=False)
    assert download.status_code == 302
    fetched = requests.get(download.headers["Location"], timeout=60)
    assert fetched.content == data
    assert fetched.headers["Content-Disposition"] == content_disposition("Сценарий — draft 1.txt")


def test_duplicate_s3_events_change_nothing_twice(api: Api, stack) -> None:
    data = os.urandom(6 * MIB)
    file = _create(api, len(data))
    parts = upload_parts(api, file, data)
    api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": parts})
    first = wait_until_stored(api, file["id"])
    key = f"uploads%2F{file['id']}"  # keys arrive URL-encoded
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r", "attributes": {}, "messageAttributes": {},
                          "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn", "awsRegion": "us-east-1",
                          "body": json.dumps({"Records": [{"eventName": name, "s3": {"object": {"key": key}}}
                                                          for name in ("ObjectCreated:Put",
                                                                       "ObjectCreated:CompleteMultipartUpload")]})}]}
    handler = stack.app.handler_map["on_upload_stored"]
    handler(event, LambdaContext("on_upload_stored"))
    handler(event, LambdaContext("on_upload_stored"))
    after = api.get(f"/files/{file['id']}", role="uploader").json()
    assert first["status"] == after["status"] == "processing" and after["updated_at"] == first["updated_at"]
    assert events.handle([json.dumps({"Event": "s3:TestEvent"}), "not json"]) == {}


def _object_exists(file_id: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_object(Bucket=settings().media_bucket, Key=f"uploads/{file_id}")
        return True
    except s3.exceptions.ClientError:
        return False


def _assert_deleted_soon(file_id: str) -> None:
    """The event handler deletes the object right after it moves the file to error (the same run),
    so a reader can see the status a moment before the deletion."""
    deadline = time.monotonic() + 10
    while _object_exists(file_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _object_exists(file_id)


def test_a_wrong_sha256_ends_in_error_and_keeps_no_object(api: Api) -> None:
    data = os.urandom(6 * MIB)
    wrong_hash = _create(api, len(data), sha256="0" * 64)
    api.post(f"/files/{wrong_hash['id']}/complete", role="uploader",
             json={"parts": upload_parts(api, wrong_hash, data)})
    failed = wait_until_stored(api, wrong_hash["id"])
    assert failed["status"] == "error" and "sha256" in failed["error"]
    _assert_deleted_soon(wrong_hash["id"])


def test_parts_that_do_not_add_up_to_the_declared_size_are_refused_before_completing(api: Api) -> None:
    declared = 6 * MIB
    for data in (os.urandom(declared - 100), os.urandom(declared + 3 * MIB)):  # short, and a part URL overfilled
        file = _create(api, declared)
        parts = upload_parts(api, file, data)
        error = assert_error(api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": parts}),
                             422, "size_mismatch")
        assert error["details"]["declared"] == declared and error["details"]["uploaded"] == len(data)
        assert api.get(f"/files/{file['id']}", role="uploader").json()["status"] == "pending"
        assert not _object_exists(file["id"])
        aborted = api.delete(f"/files/{file['id']}/upload", role="uploader")
        assert aborted.status_code == 200 and aborted.json()["status"] == "error"
        assert _open_uploads(f"uploads/{file['id']}") == [] and not _object_exists(file["id"])


def test_an_object_whose_size_differs_from_the_declaration_is_deleted(api: Api) -> None:
    """S3 may hold an object of another size (e.g. parts replaced after complete checked them):
    the event handler sends the file to error and deletes the object."""
    file = _create(api, 1000)
    client("s3").put_object(Bucket=settings().media_bucket, Key=f"uploads/{file['id']}", Body=b"x" * 3000)
    failed = wait_until_stored(api, file["id"])
    assert failed["status"] == "error" and "size" in failed["error"]
    _assert_deleted_soon(file["id"])


def test_complete_checks_parts(api: Api) -> None:
    data = os.urandom(12 * MIB)
    file = _create(api, len(data))
    parts = upload_parts(api, file, data)
    missing = assert_error(api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": parts[:2]}),
                           422, "incomplete_parts")
    assert missing["details"]["missing"] == [3]
    bad_etag = [{**p, "etag": '"0000"'} if p["part_number"] == 2 else p for p in parts]
    assert_error(api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": bad_etag}), 422,
                 "invalid_parts")
    assert api.get(f"/files/{file['id']}", role="uploader").json()["status"] == "pending"


def test_abort_leaves_no_multipart_upload_and_is_safe_to_repeat(api: Api) -> None:
    data = os.urandom(6 * MIB)
    file = _create(api, len(data))
    upload_parts(api, file, data)
    first = api.delete(f"/files/{file['id']}/upload", role="uploader")
    assert first.status_code == 200 and first.json()["status"] == "error" and first.json()["error"] == "upload aborted"
    assert _open_uploads(f"uploads/{file['id']}") == []
    assert api.delete(f"/files/{file['id']}/upload", role="uploader").status_code == 200
    assert_error(api.post(f"/files/{file['id']}/parts", role="uploader", json={"part_numbers": [1]}), 409,
                 "upload_closed")


def test_owners_see_only_their_files(api: Api) -> None:
    file = _create(api, MIB)
    stranger = {"Authorization": f"Bearer {issue_token('someone-else', 'uploader')}"}
    for method, path in (("GET", ""), ("POST", "/parts"), ("GET", "/parts"), ("POST", "/complete"),
                         ("DELETE", "/upload"), ("GET", "/download")):
        body = {"part_numbers": [1]} if path == "/parts" else {"parts": [{"part_number": 1, "etag": "x"}]}
        response = api.call(method, f"/files/{file['id']}{path}", None, headers=stranger, json=body)
        assert_error(response, 404, "not_found")
    assert api.get(f"/files/{file['id']}", role="admin").status_code == 200
    assert_error(api.get(f"/files/{file['id']}", role="reader"), 403)
    assert_error(api.get(f"/files/{file['id']}"), 401)
    mine = api.get("/files?limit=100", role="uploader").json()
    assert file["id"] in [f["id"] for f in mine["results"]]
    assert api.call("GET", "/files", None, headers=stranger).json()["count"] == 0


def test_file_list_pages_with_a_cursor(api: Api) -> None:
    token = {"Authorization": f"Bearer {issue_token('lister-' + os.urandom(3).hex(), 'uploader')}"}
    ids = [api.call("POST", "/files", None, headers=token, json=_body(MIB)).json()["id"] for _ in range(5)]
    first = api.call("GET", "/files?limit=3", None, headers=token).json()
    assert first["count"] == 5 and len(first["results"]) == 3
    rest = api.call("GET", urlparse(first["next"]).path + "?" + urlparse(first["next"]).query, None,
                    headers=token).json()
    assert sorted(r["id"] for r in first["results"] + rest["results"]) == sorted(ids) and rest["next"] is None
    assert_error(api.call("GET", "/files?cursor=bogus", None, headers=token), 400, "invalid_cursor")


def test_an_expired_upload_window_closes_the_upload(api: Api) -> None:
    file = _create(api, 6 * MIB)
    FileRow(file["id"]).update(actions=[FileRow.upload_deadline.set(int(time.time()) - 1)])
    assert_error(api.post(f"/files/{file['id']}/parts", role="uploader", json={"part_numbers": [1]}), 409,
                 "upload_expired")
    assert_error(api.post(f"/files/{file['id']}/complete", role="uploader",
                          json={"parts": [{"part_number": 1, "etag": "x"}]}), 409, "upload_expired")
    assert events.sweep() >= 1
    swept = api.get(f"/files/{file['id']}", role="uploader").json()
    assert swept["status"] == "error" and swept["error"] == "upload expired"
    assert _open_uploads(f"uploads/{file['id']}") == []
    assert events.sweep() == 0 or api.get(f"/files/{file['id']}", role="uploader").json() == swept


def test_unknown_file_ids_are_404(api: Api) -> None:
    for path in ("/files/" + "0" * 32, "/files/nope", "/files/" + "0" * 32 + "/parts"):
        assert_error(api.get(path, role="uploader"), 404, "not_found")


def test_content_disposition_keeps_any_name_safely() -> None:
    header = content_disposition('Сценарий "финал".docx')
    assert header.startswith('attachment; filename="') and "\n" not in header
    assert "filename*=UTF-8''%D0%A1%D1%86%D0%B5%D0%BD%D0%B0%D1%80%D0%B8%D0%B9" in header


def _crc32(chunk: bytes) -> str:
    import base64
    import zlib

    return base64.b64encode(zlib.crc32(chunk).to_bytes(4, "big")).decode()


def test_part_checksums_are_signed_and_required_when_asked_for(api: Api) -> None:
    data = os.urandom(12 * MIB)
    file = _create(api, len(data), part_checksum="crc32")
    plan = file["upload"]
    assert plan["part_checksum"] == "crc32"
    key = f"uploads/{file['id']}"
    created = client("s3").list_multipart_uploads(Bucket=settings().media_bucket, Prefix=key)["Uploads"][0]
    assert created.get("ChecksumAlgorithm") == "CRC32"
    missing = assert_error(api.post(f"/files/{file['id']}/parts", role="uploader", json={"part_numbers": [1, 2]}),
                           422, "checksum_required")
    assert missing["details"]["missing"] == [1, 2]
    chunks = [data[i * plan["part_size"]:(i + 1) * plan["part_size"]] for i in range(plan["part_count"])]
    crcs = {str(i + 1): _crc32(c) for i, c in enumerate(chunks)}
    signed = api.post(f"/files/{file['id']}/parts", role="uploader",
                      json={"part_numbers": [1, 2, 3], "checksums": crcs}).json()["parts"]
    for part in signed:
        assert part["headers"] == {"x-amz-checksum-crc32": crcs[str(part["part_number"])]}
        assert "x-amz-checksum-crc32" in parse_qs(urlparse(part["url"]).query)["X-Amz-SignedHeaders"][0]
    parts = []
    for part in signed:
        put = requests.put(part["url"], data=chunks[part["part_number"] - 1], headers=part["headers"], timeout=60)
        assert put.status_code == 200
        parts.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
    sha = hashlib.sha256(data).hexdigest()
    done = api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": parts, "sha256": sha})
    assert done.status_code == 200 and done.json()["sha256"] == sha
    assert wait_until_stored(api, file["id"])["status"] == "processing"


def test_checksums_for_an_upload_without_part_checksum_are_refused(api: Api) -> None:
    file = _create(api, 6 * MIB)
    assert_error(api.post(f"/files/{file['id']}/parts", role="uploader",
                          json={"part_numbers": [1], "checksums": {"1": "AAAAAA=="}}), 422, "checksum_not_expected")
    assert_error(api.post(f"/files/{file['id']}/parts", role="uploader",
                          json={"part_numbers": [1], "checksums": {"1": "not-base64"}}), 422, "validation_error")


def test_sha256_declared_at_complete_is_verified(api: Api) -> None:
    data = os.urandom(6 * MIB)
    file = _create(api, len(data))
    parts = upload_parts(api, file, data)
    api.post(f"/files/{file['id']}/complete", role="uploader", json={"parts": parts, "sha256": "1" * 64})
    failed = wait_until_stored(api, file["id"])
    assert failed["status"] == "error" and "sha256" in failed["error"]
    declared = _create(api, len(data), sha256=hashlib.sha256(data).hexdigest())
    parts = upload_parts(api, declared, data)
    assert_error(api.post(f"/files/{declared['id']}/complete", role="uploader",
                          json={"parts": parts, "sha256": "2" * 64}), 422, "sha256_mismatch")

"""Refer keys on the settable clock: rotation, expiry, freeze, cap, re-issue, timers, results."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.clock import SettableClock, iso
from chalicelib.refer import keys, rules
from chalicelib.refer.models import ResultRow
from chalicelib.refer.schemas import EXAMPLE
from chalicelib.status import FileStatus
from chalicelib.uploads.models import FileRow
from tests.unit.conftest import auth

SECRET = keys.subkey("s" * 40)
BODY = b"INT. KITCHEN - NIGHT\nA knife on the table.\n"


def stored_file(http, aws, target_audience: str | None = "12+") -> dict[str, Any]:
    """A file uploaded and announced by S3: processing, with its first key issued."""
    spec = {"filename": "play.txt", "size": len(BODY), "content_type": "text/plain", "kind": "screenplay"}
    if target_audience:
        spec["target_audience"] = target_audience
    file = json.loads(http.http.post("/files", headers=auth("uploader"), body=json.dumps(spec)).body)
    aws.client("s3").put_object(Bucket=aws.settings.media_bucket, Key=f"uploads/{file['id']}", Body=BODY)
    event = http.events.generate_sqs_event(message_bodies=[json.dumps(http.events.generate_s3_event(
        bucket=aws.settings.media_bucket, key=f"uploads/{file['id']}"))], queue_name=aws.settings.uploads_queue)
    http.lambda_.invoke("on_upload_stored", event)
    return file


def refer(http, file_id: str, role: str = "uploader") -> dict[str, Any]:
    response = http.http.get(f"/files/{file_id}/refer", headers=auth(role))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def download(http, key: str, sub: str = "ai-1", role: str = "analyzer"):  # noqa: ANN201
    return http.http.get(f"/download/{key}", headers=auth(role, sub))


def error_code(response) -> str:  # noqa: ANN001
    return json.loads(response.body)["error"]["code"]


# ---------------------------------------------------------------- keys

def test_a_key_round_trips_and_carries_128_bits_of_mac() -> None:
    parts = keys.KeyParts("0" * 31 + "a", 3, 5)
    key = keys.mint(SECRET, parts)
    assert len(key) == keys.KEY_LENGTH and keys.parse(SECRET, key) == parts and keys.MAC_BYTES * 8 >= 128
    assert keys.parse(keys.subkey("t" * 40), key) is None  # another server's secret


@pytest.mark.parametrize("key", ["", "a" * 10_000, "ключ" * 13, "../../etc/passwd", "%2e%2e%2f" * 6, "A" * 51,
                                 "=" * 51, " " * 51])
def test_malformed_keys_parse_to_nothing(key: str) -> None:
    assert keys.parse(SECRET, key) is None


def test_every_changed_character_breaks_the_key() -> None:
    key = keys.mint(SECRET, keys.KeyParts("f" * 32, 1, 0))
    for i in range(len(key)):
        flipped = key[:i] + ("A" if key[i] != "A" else "B") + key[i + 1:]
        assert keys.parse(SECRET, flipped) is None, i


# ---------------------------------------------------------------- rules

def test_windows_rotate_every_90_seconds_for_10_minutes() -> None:
    fields = rules.ReferFields(issue=1, issued_at=1000.0, frozen_window=None, frozen_at=None, downloaders=0)
    assert rules.current(fields, 1000, 600) == rules.Current(rules.ReferState.ACTIVE, 0, 1090, 1090)
    assert rules.current(fields, 1089.9, 600).window == 0 and rules.current(fields, 1090, 600).window == 1
    last = rules.current(fields, 1599, 600)
    assert (last.window, last.expires_at, last.next_rotation_at) == (6, 1600, None)
    assert rules.current(fields, 1600, 600).state is rules.ReferState.EXPIRED
    assert rules.check(fields, 1, 0, 1090, 600) is rules.Refusal.ROTATED
    assert rules.check(fields, 1, 2, 1090, 600) is rules.Refusal.UNKNOWN
    assert rules.check(fields, 1, 6, 1600, 600) is rules.Refusal.EXPIRED
    assert rules.check(fields, 2, 0, 1000, 600) is rules.Refusal.UNKNOWN


# ---------------------------------------------------------------- through the API

def test_the_key_is_issued_with_the_move_to_processing(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    row = FileRow.get(file["id"], consistent_read=True)
    assert row.status == FileStatus.PROCESSING and row.refer_issue == 1 and row.sequence == 3
    view = refer(http, file["id"])
    assert view["state"] == "active" and view["issue"] == 1 and view["downloaders"] == 0
    assert view["url"] == f"http://localhost/download/{view['key']}"
    assert view["expires_at"] == view["next_rotation_at"] == iso(row.refer_issued_at + 90)
    shown = json.loads(http.http.get(f"/files/{file['id']}", headers=auth("uploader")).body)["refer"]
    assert shown == {"state": "active", "expires_at": view["expires_at"], "downloaders": 0}
    assert view["key"] not in json.dumps(shown)


def test_rotation_at_90_s_retires_the_old_key(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    first = refer(http, file["id"])["key"]
    clock.advance(90)
    second = refer(http, file["id"])
    assert second["key"] != first
    assert error_code(download(http, first)) == "refer_rotated"
    assert download(http, first).status_code == 410
    assert download(http, second["key"]).status_code == 302


def test_without_a_download_the_key_expires_after_10_minutes(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    clock.advance(599)
    last = refer(http, file["id"])
    assert last["state"] == "active" and last["next_rotation_at"] is None
    clock.advance(1)
    expired = refer(http, file["id"])
    assert (expired["state"], expired["key"], expired["url"]) == ("expired", None, None)
    response = download(http, last["key"])
    assert response.status_code == 410 and error_code(response) == "refer_expired"


def test_the_first_download_freezes_the_key_for_the_download_window(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws, target_audience=None)
    clock.advance(30)
    key = refer(http, file["id"])["key"]
    response = download(http, key)
    assert response.status_code == 302
    assert response.headers["X-File-Id"] == file["id"] and response.headers["X-File-Target-Audience"] == "none"
    assert response.headers["X-Refer-Key"] == key
    location = response.headers["Location"]
    assert f"uploads/{file['id']}" in location and "X-Amz-Expires=300" in location
    clock.advance(400)  # past several rotations: the frozen key stays
    frozen = refer(http, file["id"])
    assert (frozen["state"], frozen["key"], frozen["next_rotation_at"]) == ("frozen", key, None)
    assert download(http, key, sub="ai-2").status_code == 302
    clock.advance(200)  # 630 s: 600 s after the first download
    response = download(http, key, sub="ai-3")
    assert response.status_code == 410 and error_code(response) == "refer_expired"


def test_ten_distinct_downloaders_and_no_more(http, aws) -> None:
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    assert [download(http, key, sub=f"ai-{n}").status_code for n in range(10)] == [302] * 10
    assert download(http, key, sub="ai-0").status_code == 302  # the same downloader takes no second place
    response = download(http, key, sub="ai-10")
    assert response.status_code == 429 and error_code(response) == "too_many_downloaders"
    assert refer(http, file["id"])["downloaders"] == 10


def test_reissue_after_expiry_starts_a_new_key_with_its_own_places(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    old = refer(http, file["id"])["key"]
    for n in range(10):
        download(http, old, sub=f"ai-{n}")
    clock.advance(700)
    response = http.http.post(f"/files/{file['id']}/refer", headers=auth("uploader"))
    assert response.status_code == 200, response.body
    new = json.loads(response.body)
    assert new["state"] == "active" and new["issue"] == 2 and new["key"] != old and new["downloaders"] == 0
    assert error_code(download(http, old)) == "refer_rotated"
    assert download(http, new["key"], sub="ai-new").status_code == 302


def test_only_analyzers_download_and_only_owners_read_keys(http, aws) -> None:
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    for role in ("reader", "uploader", "editor"):
        assert download(http, key, role=role).status_code == 403
    assert http.http.get(f"/download/{key}").status_code == 401
    assert http.http.get(f"/files/{file['id']}/refer", headers=auth("uploader", "someone-else")).status_code == 404
    for bad in ("x", "a" * 10_000, "ключ", key[:-1] + ("A" if key[-1] != "A" else "B")):
        response = download(http, bad)
        assert response.status_code == 404 and error_code(response) == "not_found"


def test_timers_announce_each_rotation_once_and_then_the_expiry(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    row = FileRow.get(file["id"], consistent_read=True)
    issued, sequence = row.refer_issued_at, int(row.sequence)
    for window in range(1, 8):
        row.refresh(consistent_read=True)
        due = row.refer_due_at
        timer = json.dumps({"file_id": file["id"], "issue": 1, "due": due})
        event = http.events.generate_sqs_event(message_bodies=[timer, timer], queue_name=aws.settings.refer_queue)
        clock.set(due - 5)
        http.lambda_.invoke("on_refer_timer", event)  # early: nothing announced
        assert FileRow.get(file["id"], consistent_read=True).sequence == sequence
        clock.set(due + 0.5)
        http.lambda_.invoke("on_refer_timer", event)  # twice in one batch, announced once
        row.refresh(consistent_read=True)
        sequence += 1 if window < 7 else 2  # the expiry of a key nobody downloaded also fails the file
        assert row.sequence == sequence
        if window < 7:
            assert (row.refer_event, row.refer_window, row.refer_due_at) == ("rotated", window, issued + 90 * (window + 1)
                                                                              if window < 6 else issued + 600)
        else:
            assert row.refer_event == "expired" and row.refer_due_at is None and row.refer_timer is None
            assert (row.status, row.error) == (FileStatus.ERROR, "no analyzer picked it up")


def test_lost_timers_are_found_through_the_sparse_index(http, aws, clock: SettableClock) -> None:
    from chalicelib.refer import service

    file = stored_file(http, aws)
    row = FileRow.get(file["id"], consistent_read=True)
    clock.set(row.refer_due_at + 60)
    assert service.repair_timers() >= 1


# ---------------------------------------------------------------- results

def test_results_from_downloaders_move_the_file_to_ready_once(http, aws) -> None:
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    headers = auth("analyzer", "ai-1")
    assert http.http.post(f"/download/{key}", headers=headers, body=json.dumps(EXAMPLE)).status_code == 403
    download(http, key, sub="ai-1")
    first = http.http.post(f"/download/{key}", headers=headers, body=json.dumps(EXAMPLE))
    assert first.status_code == 201, first.body
    assert json.loads(first.body) == {"file_id": file["id"], "analyzer": "ai-1", "status": "ready", "findings": 2,
                                      "created": True}
    again = http.http.post(f"/download/{key}", headers=headers, body=json.dumps(EXAMPLE))
    assert again.status_code == 200 and json.loads(again.body)["created"] is False
    changed = http.http.post(f"/download/{key}", headers=headers, body=json.dumps({**EXAMPLE, "rating": "18+"}))
    assert changed.status_code == 409 and error_code(changed) == "result_exists"
    download(http, key, sub="ai-2")
    second = http.http.post(f"/download/{key}", headers=auth("analyzer", "ai-2"), body=json.dumps(EXAMPLE))
    assert second.status_code == 201 and json.loads(second.body)["status"] == "ready"
    assert {r.analyzer for r in ResultRow.query(file["id"])} == {"ai-1", "ai-2"}
    stored = aws.client("s3").get_object(Bucket=aws.settings.media_bucket,
                                         Key=ResultRow.get(file["id"], "ai-1").document_key)["Body"].read()
    assert json.loads(stored)["analyzer"] == EXAMPLE["analyzer"]


def test_bad_result_documents_are_refused_clearly(http, aws) -> None:
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    download(http, key, sub="ai-1")
    headers = auth("analyzer", "ai-1")
    assert error_code(http.http.post(f"/download/{key}", headers=headers, body="{not json")) == "invalid_json"
    invalid = http.http.post(f"/download/{key}", headers=headers, body=json.dumps(
        {**EXAMPLE, "findings": [{"category": "x", "severity": "catastrophic"}]}))
    assert invalid.status_code == 422
    huge = {**EXAMPLE, "summary": "x" * 20_000, "findings": [EXAMPLE["findings"][0]] * 20_000}
    assert http.http.post(f"/download/{key}", headers=headers, body=json.dumps(huge)).status_code == 413
    row = FileRow.get(file["id"], consistent_read=True)
    assert row.status == FileStatus.PROCESSING


def test_a_result_for_a_file_in_error_is_a_409(http, aws) -> None:
    from chalicelib.status import transition

    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    download(http, key, sub="ai-1")
    transition(FileRow.get(file["id"], consistent_read=True), FileStatus.ERROR)
    response = http.http.post(f"/download/{key}", headers=auth("analyzer", "ai-1"), body=json.dumps(EXAMPLE))
    assert response.status_code == 409 and error_code(response) == "not_analyzable"


@pytest.mark.parametrize("line", ["GET /download/{k} HTTP/1.1", "GET /download//{k} HTTP/1.1",
                                  "GET /Download/{k} HTTP/1.1", "GET /download/..%2F{k} HTTP/1.1",
                                  "GET /files/{k}?x={k} HTTP/1.1", "POST /download/{k}/result-upload HTTP/1.1"])
def test_access_lines_never_carry_a_key(line: str) -> None:
    from infra.emulators import redact_path

    key = keys.mint(SECRET, keys.KeyParts("ab" * 16, 1, 0))
    redacted = redact_path(line.format(k=key))
    assert key not in redacted and "<key:" in redacted


def test_posting_after_a_reissue_or_long_after_the_window_is_a_410(http, aws, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    download(http, key, sub="ai-late")
    headers = auth("analyzer", "ai-late")
    clock.advance(600 + 3599)  # still within an hour of the window's end
    assert http.http.post(f"/download/{key}", headers=headers, body=json.dumps(EXAMPLE)).status_code == 201
    other = stored_file(http, aws)
    key2 = refer(http, other["id"])["key"]
    download(http, key2, sub="ai-late")
    clock.advance(600 + 3600)
    late = http.http.post(f"/download/{key2}", headers=headers, body=json.dumps(EXAMPLE))
    assert late.status_code == 410 and error_code(late) == "refer_expired"
    third = stored_file(http, aws)
    key3 = refer(http, third["id"])["key"]
    download(http, key3, sub="ai-late")
    assert http.http.post(f"/files/{third['id']}/refer", headers=auth("uploader")).status_code == 200
    replaced = http.http.post(f"/download/{key3}", headers=headers, body=json.dumps(EXAMPLE))
    assert replaced.status_code == 410 and error_code(replaced) == "refer_rotated"


def test_a_result_upload_belongs_to_the_analyzer_that_asked_for_it(http, aws) -> None:
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    for sub in ("ai-a", "ai-b"):
        download(http, key, sub=sub)
    body = json.dumps(EXAMPLE).encode()
    slot = json.loads(http.http.post(f"/download/{key}/result-upload", headers=auth("analyzer", "ai-a"),
                                     body=json.dumps({"size": len(body)})).body)
    aws.client("s3").put_object(Bucket=aws.settings.media_bucket, Key=_slot_key(slot, aws),
                                Body=body)
    stolen = http.http.post(f"/download/{key}/result-upload/{slot['upload_id']}", headers=auth("analyzer", "ai-b"))
    assert stolen.status_code == 422 and error_code(stolen) == "no_such_upload"
    mine = http.http.post(f"/download/{key}/result-upload/{slot['upload_id']}", headers=auth("analyzer", "ai-a"))
    assert mine.status_code == 201, mine.body


def test_a_result_upload_is_signed_for_its_declared_size_so_s3_refuses_more(http, aws) -> None:
    from urllib.parse import parse_qs, urlparse

    from chalicelib.refer.results import UPLOAD_MAX
    from chalicelib.refer.schemas import ResultUploadIn

    assert ResultUploadIn.model_json_schema()["properties"]["size"]["maximum"] == UPLOAD_MAX
    file = stored_file(http, aws)
    key = refer(http, file["id"])["key"]
    download(http, key, sub="ai-a")
    asked = http.http.post(f"/download/{key}/result-upload", headers=auth("analyzer", "ai-a"),
                           body=json.dumps({"size": 6_000_000}))
    slot = json.loads(asked.body)
    signed = parse_qs(urlparse(slot["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert "content-length" in signed and slot["headers"]["Content-Length"] == "6000000"
    for bad in ({}, {"size": 0}, {"size": UPLOAD_MAX + 1}, {"size": "6000000"}, {"size": 1, "x": 1}):
        refused = http.http.post(f"/download/{key}/result-upload", headers=auth("analyzer", "ai-a"),
                                 body=json.dumps(bad))
        assert refused.status_code == 422, (bad, refused.body)


def _slot_key(slot: dict[str, Any], aws) -> str:  # noqa: ANN001
    """The object key a presigned PUT names (virtual-hosted in unit tests: the path is the key)."""
    from urllib.parse import unquote, urlparse

    path = unquote(urlparse(slot["url"]).path).lstrip("/")
    return path.split("/", 1)[1] if path.startswith(aws.settings.media_bucket + "/") else path

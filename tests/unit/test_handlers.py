"""Handlers through chalice's own test client and event generators, on in-process moto."""
from __future__ import annotations

import dataclasses
import json

from chalicelib import provider
from chalicelib.clock import SettableClock, iso
from chalicelib.pages import cache
from chalicelib.status import FileStatus
from chalicelib.uploads.models import FileRow
from tests.unit.conftest import auth


def test_a_page_round_trip_counts_its_views_through_the_sqs_handler(http, aws) -> None:
    created = http.http.post("/pages", headers=auth("editor"), body=json.dumps({
        "title": "Unit page", "items": [{"type": "text", "title": "T", "body": "Привет"}]}))
    assert created.status_code == 201, created.body
    page = json.loads(created.body)
    for _ in range(3):
        assert http.http.get(f"/pages/{page['id']}").status_code == 200
    sqs = aws.client("sqs")
    url = aws.queue_url(aws.settings.views_queue)
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert len(bodies) == 3
    event = http.events.generate_sqs_event(message_bodies=bodies + bodies[:1], queue_name=aws.settings.views_queue)
    http.lambda_.invoke("count_views", event)
    cache.clear()
    item = json.loads(http.http.get(f"/pages/{page['id']}").body)["items"][0]
    assert item["views"] == 3 and item["body"] == "Привет"


def test_the_sweeper_closes_expired_uploads_on_the_settable_clock(http, aws, clock: SettableClock) -> None:
    created = http.http.post("/files", headers=auth("uploader"), body=json.dumps({
        "filename": "a.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay"}))
    assert created.status_code == 201, created.body
    file_id = json.loads(created.body)["id"]
    tick = http.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                         resources=[])
    http.lambda_.invoke("sweep_stale_uploads", tick)
    assert FileRow.get(file_id).status == FileStatus.PENDING
    clock.advance(aws.settings.upload_window + 1)
    http.lambda_.invoke("sweep_stale_uploads", tick)
    row = FileRow.get(file_id, consistent_read=True)
    assert row.status == FileStatus.ERROR and row.error == "upload expired" and row.sequence == 2
    assert row.status_at == iso(clock.now())
    uploads = aws.client("s3").list_multipart_uploads(Bucket=aws.settings.media_bucket, Prefix=f"uploads/{file_id}")
    assert uploads.get("Uploads", []) == []


def test_an_s3_event_moves_a_stored_upload_to_processing_once(http, aws) -> None:
    body = b"INT. ROOM - DAY\n"
    created = json.loads(http.http.post("/files", headers=auth("uploader"), body=json.dumps({
        "filename": "a.txt", "size": len(body), "content_type": "text/plain", "kind": "screenplay"})).body)
    aws.client("s3").put_object(Bucket=aws.settings.media_bucket, Key=f"uploads/{created['id']}", Body=body)
    s3_event = json.dumps(http.events.generate_s3_event(bucket=aws.settings.media_bucket,
                                                         key=f"uploads/{created['id']}"))
    event = http.events.generate_sqs_event(message_bodies=[s3_event, s3_event], queue_name=aws.settings.uploads_queue)
    http.lambda_.invoke("on_upload_stored", event)
    http.lambda_.invoke("on_upload_stored", event)
    row = FileRow.get(created["id"], consistent_read=True)
    assert row.status == FileStatus.PROCESSING and row.sequence == 3 and row.refer_issue == 1  # status + key issued


def test_part_keys_that_are_not_ascii_part_numbers_are_a_422(http) -> None:
    created = json.loads(http.http.post("/files", headers=auth("uploader"), body=json.dumps({
        "filename": "a.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay"})).body)
    for keys in ({"²": "AAAAAAAAAAAAAAAAAAAAAA=="}, {"9" * 5000: "AAAAAAAAAAAAAAAAAAAAAA=="},
                 {"0": "AAAAAAAAAAAAAAAAAAAAAA=="}, {"١": "AAAAAAAAAAAAAAAAAAAAAA=="}):
        response = http.http.post(f"/files/{created['id']}/parts", headers=auth("uploader"),
                                  body=json.dumps({"part_numbers": [1], "content_md5": keys}))
        assert response.status_code == 422, response.body
        assert json.loads(response.body)["error"]["code"] == "validation_error"


def test_a_reorder_of_40000_ids_is_refused_by_the_schema(http) -> None:
    page = json.loads(http.http.post("/pages", headers=auth("editor"), body=json.dumps({"title": "Order"})).body)
    response = http.http.put(f"/pages/{page['id']}/order", headers=auth("editor"),
                             body=json.dumps({"items": ["0" * 32] * 40_000}))
    assert response.status_code == 422 and json.loads(response.body)["error"]["details"][0]["type"] == "too_long"


def test_a_placeholder_secret_stops_the_api_outside_the_local_stack(http, aws) -> None:
    for secret, local in (("set-me-in-the-deploy-environment", False), ("short", False), ("", True)):
        broken = provider.Provider(dataclasses.replace(aws.settings, token_secret=secret, local=local), aws.clock)
        with provider.use(broken):
            for path in ("/health", "/pages"):
                response = http.http.get(path)
                assert response.status_code == 503, (secret, path)
                error = json.loads(response.body)["error"]
                assert error["code"] == "misconfigured" and "KADR_TOKEN_SECRET" in error["message"]
    local = provider.Provider(dataclasses.replace(aws.settings, token_secret="short-but-local", local=True), aws.clock)
    with provider.use(local):
        assert http.http.get("/health").status_code == 200
    assert http.http.get("/health").status_code == 200


def test_file_cursors_are_validated_fully(http) -> None:
    """Real DynamoDB rejects empty key values with a 500; the API answers 400 first."""
    from chalicelib import cursor

    for value in (["", "0" * 32], ["2026-11-23T10:00:00.000Z", ""], ["x", "0" * 32], ["2026-11-23T10:00:00.000Z"],
                  "text", None, ["2026-11-23T10:00:00.000Z", "0" * 32, 1]):
        response = http.http.get(f"/files?cursor={cursor.encode(value)}", headers=auth("uploader"))
        assert response.status_code == 400, (value, response.body)
        assert json.loads(response.body)["error"]["code"] == "invalid_cursor"
    ok = http.http.get(f"/files?cursor={cursor.encode(['2026-11-23T10:00:00.000Z', '0' * 32])}",
                       headers=auth("uploader"))
    assert ok.status_code == 200


def test_pages_and_files_stamp_time_in_one_format(http, clock: SettableClock) -> None:
    page = json.loads(http.http.post("/pages", headers=auth("editor"), body=json.dumps({"title": "Stamps"})).body)
    file = json.loads(http.http.post("/files", headers=auth("uploader"), body=json.dumps({
        "filename": "a.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay"})).body)
    expected = iso(clock.now())
    assert len(expected) == len("2026-11-23T10:00:00.000Z") and expected.endswith("Z")
    assert {page["created_at"], page["updated_at"], file["created_at"], file["updated_at"], file["status_at"]} == {
        expected}


def test_the_api_viewers_load_nothing_from_outside(http) -> None:
    """/docs and /redoc name only relative URLs, and every asset they name is served."""
    import re

    for page in ("/docs", "/redoc"):
        html = http.http.get(page).body.decode()
        assert "http://" not in html and "https://" not in html and "//" not in html.replace("://", "")
        for name in re.findall(r'(?:src|href)="docs-assets/([^"]+)"', html):
            asset = http.http.get(f"/docs-assets/{name}")
            assert asset.status_code == 200 and len(asset.body) > 100_000, name
    assert http.http.get("/docs-assets/..%2Fapp.py").status_code == 404


def test_tokens_that_would_live_over_7_days_are_refused(http) -> None:
    """Found by review: a correctly signed token with exp=10**30 was accepted."""
    import time

    import jwt

    from tests.unit.conftest import TEST_SECRET

    now = int(time.time())
    for claims in ({"exp": 10**30, "iat": now}, {"exp": now + 8 * 86400, "iat": now}, {"exp": now + 60}):
        token = jwt.encode({"sub": "x", "role": "editor", "iss": "kadr", **claims}, TEST_SECRET, algorithm="HS256")
        response = http.http.get("/violations", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, claims


def test_file_names_with_direction_overrides_are_refused(http) -> None:
    response = http.http.post("/files", headers=auth("uploader"), body=json.dumps({
        "filename": "\u202etxt.exe", "size": 10, "content_type": "text/plain", "kind": "screenplay"}))
    assert response.status_code == 422


def test_no_shipped_viewer_asset_fetches_from_a_cdn() -> None:
    from chalicelib.openapi import ASSETS, SWAGGER_HTML, asset

    for name in ASSETS:
        text, _ = asset(name)
        assert "cdn." not in text and "unpkg.com" not in text, name
    assert "validatorUrl: null" in SWAGGER_HTML  # else Swagger UI asks validator.swagger.io


def test_bodies_are_parsed_strictly_no_string_is_a_number_and_no_number_a_string(http) -> None:
    """Lax coercion would store a client's bug ("1000" for a size, 12 for a title) without a word."""
    file = {"filename": "a.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay"}
    for bad in ({"size": "10"}, {"size": 10.0}, {"filename": 12}, {"size": True}):
        answer = http.http.post("/files", headers=auth("uploader"), body=json.dumps(file | bad))
        assert answer.status_code == 422, (bad, answer.body)
        assert json.loads(answer.body)["error"]["details"][0]["loc"][-1] == next(iter(bad))
    page = http.http.post("/pages", headers=auth("editor"), body=json.dumps({"title": 5}))
    assert page.status_code == 422, page.body
    assert http.http.post("/files", headers=auth("uploader"), body=json.dumps(file)).status_code == 201

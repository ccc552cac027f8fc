"""Refer keys on the local stack (moto server): a whole flow, races, and no key at rest or in logs."""
from __future__ import annotations

import json
import time
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from chalicelib.auth import issue_token
from chalicelib.provider import client, settings
from chalicelib.refer.schemas import EXAMPLE
from tests.helpers import Api, assert_error, upload_file

BODY = "ИНТ. КУХНЯ — НОЧЬ\nНа столе нож.\n".encode() * 50


def stored(api: Api, body: bytes = BODY, audience: str = "16+") -> dict[str, Any]:
    """A file uploaded through the API and announced by S3 (via the SQS pump): processing. A
    video: the built-in analyzer (which reads screenplays and subtitles) leaves its key alone."""
    return upload_file(api, body, kind="video", content_type="video/mp4", filename="клип.mp4",
                       target_audience=audience)


def analyzer(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(sub, 'analyzer')}"}


def test_upload_key_download_result_ready(api: Api, capfd) -> None:  # noqa: ANN001
    file = stored(api)
    assert file["refer"]["state"] == "active" and file["sequence"] == 3
    view = api.get(f"/files/{file['id']}/refer", role="uploader").json()
    assert view["url"] == f"{api.base}/download/{view['key']}"
    response = api.session.get(view["url"], headers=analyzer("ai-e2e"), allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text
    assert (response.headers["X-File-Id"], response.headers["X-File-Target-Audience"],
            response.headers["X-Refer-Key"]) == (file["id"], "16+", view["key"])
    assert requests.get(response.headers["Location"], timeout=30).content == BODY
    posted = api.session.post(view["url"], json=EXAMPLE, headers=analyzer("ai-e2e"), timeout=30)
    assert posted.status_code == 201, posted.text
    after = api.get(f"/files/{file['id']}", role="uploader").json()
    assert after["status"] == "ready" and after["refer"]["state"] == "frozen" and after["refer"]["downloaders"] == 1

    # No key at rest: not in any item of any table, nor in anything logged during the flow.
    ddb = client("dynamodb")
    dumped = []
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            dumped.append(json.dumps(page["Items"]))
    logs = capfd.readouterr()
    for haystack in ("".join(dumped), logs.out, logs.err):
        assert view["key"] not in haystack
    assert "/download/<key:" in logs.err  # the access log did see the request, fingerprinted


def test_50_racing_downloaders_get_10_places(api: Api) -> None:
    file = stored(api)
    key = api.get(f"/files/{file['id']}/refer", role="uploader").json()["key"]
    tokens = [issue_token(f"racer-{n}", "analyzer") for n in range(50)]

    def fetch(token: str) -> int:
        return requests.get(f"{api.base}/download/{key}", headers={"Authorization": f"Bearer {token}"},
                            allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(fetch, tokens))
    assert sorted(codes) == [302] * 10 + [429] * 40
    assert api.get(f"/files/{file['id']}/refer", role="uploader").json()["downloaders"] == 10


def test_racing_downloads_and_reissues_never_leave_two_valid_keys(api: Api) -> None:
    file = stored(api)
    first = api.get(f"/files/{file['id']}/refer", role="uploader").json()["key"]
    seen = {first}

    def reissue(_: int) -> None:
        response = api.post(f"/files/{file['id']}/refer", role="uploader")
        if response.status_code == 200:
            seen.add(response.json()["key"])
        else:
            assert_error(response, 409)

    def download(n: int) -> None:
        for key in list(seen):
            requests.get(f"{api.base}/download/{key}", headers=analyzer(f"r-{n}"), allow_redirects=False, timeout=60)

    # Four waves of 20 racers: in each wave the re-issues race one another (one wins, the rest
    # get 409) and the downloads race them; every wave starts from the state the last one left.
    with ThreadPoolExecutor(max_workers=20) as pool:
        for wave in range(4):
            list(pool.map(lambda n: reissue(n) if n % 2 else download(n), range(wave * 20, wave * 20 + 20)))
    valid = [key for key in seen if requests.get(f"{api.base}/download/{key}", headers=analyzer("checker"),
                                                 allow_redirects=False, timeout=60).status_code in (302, 429)]
    assert len(seen) >= 5 and len(valid) == 1


def test_a_key_of_a_deleted_file_is_a_404(api: Api) -> None:
    from chalicelib.uploads.models import FileRow

    file = stored(api)
    key = api.get(f"/files/{file['id']}/refer", role="uploader").json()["key"]
    FileRow.get(file["id"]).delete()
    assert_error(api.session.get(f"{api.base}/download/{key}", headers=analyzer("x"), allow_redirects=False,
                                 timeout=30), 404, "not_found")


def test_a_key_rotates_for_real_after_90_seconds(api: Api) -> None:
    """The same mechanism as `make dev`: an SQS delay message through the pump, no settable clock."""
    file = stored(api)
    before = api.get(f"/files/{file['id']}/refer", role="uploader").json()
    rotation = datetime.fromisoformat(before["next_rotation_at"]).timestamp()
    time.sleep(max(0.0, rotation - time.time()) + 3)
    after = api.get(f"/files/{file['id']}", role="uploader").json()
    assert after["sequence"] == file["sequence"] + 1, "the rotation event was written by the timer"
    rotated = api.get(f"/files/{file['id']}/refer", role="uploader").json()
    assert rotated["key"] != before["key"]
    assert_error(api.session.get(f"{api.base}/download/{before['key']}", headers=analyzer("late"),
                                 allow_redirects=False, timeout=30), 410, "refer_rotated")
    assert settings().refer_queue.endswith("-refer")

"""Rating on the local stack (moto server, SQS pumps): a screenplay rates itself end to end, an
external analyzer's result counts the same, the report follows the target and people's
overrides, an unclaimed video errors and comes back, duplicates change nothing twice."""
from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from chalicelib.auth import issue_token
from chalicelib.refer.schemas import EXAMPLE
from tests.helpers import Api, assert_error, queue_depth, upload_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCRIPT = """1. ИНТ. КВАРТИРА ИВАНА — НОЧЬ

Иван достаёт пистолет и стреляет соседу в голову. Кровь заливает пол, труп лежит у двери.

ИВАН
Блядь. Я его убил.

2. НАТ. ДВОР — ДЕНЬ

Дети играют в мяч. Светит солнце.

3. ИНТ. БАР — ВЕЧЕР

Мария пьёт водку стакан за стаканом и курит.
""".encode()


@pytest.fixture(autouse=True, scope="module")
def default_catalog(stack: Any) -> None:
    """The project's default catalog, as `make dev` loads it (an idempotent upsert)."""
    from chalicelib.catalog import service as catalog
    from infra.stack import DEFAULT_CATALOG

    catalog.import_workbook(DEFAULT_CATALOG.read_bytes())


def analyzer(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(sub, 'analyzer')}"}


def wait_for(api: Api, file_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        file = api.get(f"/files/{file_id}", role="uploader").json()
        if not seen or seen[-1] != file["status"]:
            seen.append(file["status"])
        if file["status"] == status:
            return file
        if file["status"] == "error":
            raise AssertionError(f"the file failed: {file['error']}")
        time.sleep(0.2)
    raise AssertionError(f"the file never reached {status}: {seen}")


def settle(stack: Any) -> None:
    """Wait until the analysis queue is empty (every delivery handled)."""
    from chalicelib.provider import settings

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and queue_depth(stack, settings().analysis_queue):
        time.sleep(0.3)
    time.sleep(0.5)


def test_a_screenplay_rates_itself_and_the_report_follows_target_and_people(api: Api) -> None:
    file = upload_file(api, SCRIPT, filename="сценарий.txt", target_audience="12+")
    rated = wait_for(api, file["id"], "db_ready")
    assert rated["rating"] == rated["ai_rating"] == "18+" and rated["text_available"]
    assert rated["refer"]["state"] == "frozen" and rated["refer"]["downloaders"] == 1  # the built-in, by key

    report = api.get(f"/files/{file['id']}/report", role="uploader").json()
    assert report["rating"] == "18+" and report["exceeds_target"] and not report["truncated"]
    assert report["exceedances"] and all(f["advice"] for f in report["exceedances"])
    assert {s["scene_label"] for s in report["scenes"]} >= {"1", "3"}
    assert {f["category"] for f in report["findings"]} >= {"language.obscene"}

    # The target changes after upload: the report follows, nothing is analyzed again.
    sequence = rated["sequence"]
    patched = api.patch(f"/files/{file['id']}", role="uploader", json={"target_audience": "18+"})
    assert patched.status_code == 200 and patched.json()["sequence"] == sequence + 1
    relaxed = api.get(f"/files/{file['id']}/report", role="uploader").json()
    assert relaxed["exceeds_target"] is False and relaxed["exceedances"] == []
    assert [f["id"] for f in relaxed["findings"]] == [f["id"] for f in report["findings"]]

    # People judge every finding: the person wins, the final rating is recomputed.
    for finding in report["findings"]:
        made = api.post(f"/files/{file['id']}/comments", role="uploader", json={
            "finding_id": finding["id"], "severity": "none", "text": "Снято за кадром."})
        assert made.status_code == 201, made.text
    final = api.get(f"/files/{file['id']}/report", role="uploader").json()
    assert final["rating"] == "0+" and final["ai_rating"] == "18+"
    judged = {f["id"]: f["severity"] for f in report["findings"]}  # a "none" on a "none" overrides nothing
    assert all(("overridden_by" in f) == (judged[f["id"]] != "none") for f in final["findings"])
    assert api.get(f"/files/{file['id']}", role="uploader").json()["rating"] == "0+"
    merged = api.get(f"/files/{file['id']}/recommendation", role="uploader").json()
    assert merged["rating"] == "0+" and merged["counts"]["overridden"] == sum(
        1 for severity in judged.values() if severity != "none")

    # The workbook opens and holds the findings.
    from openpyxl import load_workbook

    xlsx = api.get(f"/files/{file['id']}/report?format=xlsx", role="uploader", headers={"Accept": XLSX})
    assert xlsx.status_code == 200, xlsx.text
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    ids = {row[-1] for row in book["Findings by scene"].iter_rows(min_row=2, values_only=True)}
    assert ids == {f["id"] for f in report["findings"]}

    # The derived text is what GET /files/{id}/text serves, not the upload.
    import requests

    link = api.get(f"/files/{file['id']}/text", role="uploader", allow_redirects=False)
    assert link.status_code == 302 and link.headers["Location"].split("?")[0].endswith(f"derived/{file['id']}.txt")
    text = requests.get(link.headers["Location"], timeout=30)
    assert text.status_code == 200 and "Дети играют в мяч." in text.content.decode()


def test_duplicate_deliveries_change_nothing_twice(api: Api, stack: Any) -> None:
    from chalicelib.provider import client, current, settings

    file = upload_file(api, SCRIPT, filename="дубль.txt", target_audience="16+")
    rated = wait_for(api, file["id"], "db_ready")
    settle(stack)
    before = api.get(f"/files/{file['id']}/comments?limit=100", role="uploader").json()
    url = current().queue_url(settings().analysis_queue)
    messages = [{"action": "analyze", "file_id": file["id"], "issue": 1},
                {"action": "ingest", "file_id": file["id"], "analyzer": "kadr-analyzer"}]
    for message in messages * 2:
        client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(message))
    settle(stack)
    after = api.get(f"/files/{file['id']}", role="uploader").json()
    assert (after["status"], after["sequence"], after["rating"]) == ("db_ready", rated["sequence"], rated["rating"])
    assert api.get(f"/files/{file['id']}/comments?limit=100", role="uploader").json() == before


def test_an_external_analyzers_result_also_yields_findings_and_db_ready(api: Api) -> None:
    file = upload_file(api, b"\x00" * 256, kind="video", content_type="video/mp4", filename="клип.mp4",
                       target_audience="12+")
    key = api.get(f"/files/{file['id']}/refer", role="uploader").json()["key"]
    got = api.session.get(f"{api.base}/download/{key}", headers=analyzer("acme-ai"), allow_redirects=False, timeout=30)
    assert got.status_code == 302
    posted = api.session.post(f"{api.base}/download/{key}", json=EXAMPLE, headers=analyzer("acme-ai"), timeout=30)
    assert posted.status_code == 201, posted.text
    wait_for(api, file["id"], "db_ready")
    report = api.get(f"/files/{file['id']}/report", role="uploader").json()
    assert report["rating"] == "18+" and len(report["findings"]) == 2 and report["exceeds_target"]
    comments = api.session.get(f"{api.base}/files/{file['id']}/comments", headers=analyzer("acme-ai"), timeout=30)
    assert comments.status_code == 200 and {c["source"] for c in comments.json()["results"]} == {"ai"}
    assert api.session.get(f"{api.base}/files/{file['id']}/comments", headers=analyzer("other-ai"),
                           timeout=30).status_code == 404


def test_a_video_nobody_downloads_errors_and_a_reissue_brings_it_back(api: Api, stack: Any) -> None:
    """The key's ten minutes pass at once: the row's issue time moves back, and the due timer goes
    through the real refer queue and pump."""
    from chalicelib.provider import client, current, settings
    from chalicelib.uploads.models import FileRow

    file = upload_file(api, b"\x00" * 256, kind="video", content_type="video/mp4", filename="ничей.mp4")
    row = FileRow.get(file["id"], consistent_read=True)
    issued = row.refer_issued_at - 601
    row.update(actions=[FileRow.refer_issued_at.set(issued), FileRow.refer_due_at.set(issued + 600)])
    client("sqs").send_message(QueueUrl=current().queue_url(settings().refer_queue), MessageBody=json.dumps(
        {"file_id": file["id"], "issue": 1, "due": issued + 600}))
    deadline = time.monotonic() + 30
    while api.get(f"/files/{file['id']}", role="uploader").json()["status"] != "error":
        assert time.monotonic() < deadline, "the unclaimed file did not fail"
        time.sleep(0.2)
    failed = api.get(f"/files/{file['id']}", role="uploader").json()
    assert (failed["error"], failed["error_code"]) == ("no analyzer picked it up", "unclaimed")
    assert_error(api.get(f"/files/{file['id']}/report", role="uploader"), 409, "not_rated")
    again = api.post(f"/files/{file['id']}/refer", role="uploader")
    assert again.status_code == 200, again.text
    assert again.json()["state"] == "active" and again.json()["issue"] == 2
    back = api.get(f"/files/{file['id']}", role="uploader").json()
    assert back["status"] == "processing" and back["error"] is None and back["sequence"] == failed["sequence"] + 2
    # ... and an analyzer can now take it.
    got = api.session.get(again.json()["url"], headers=analyzer("late-ai"), allow_redirects=False, timeout=30)
    assert got.status_code == 302


def test_another_owners_file_is_a_404_on_every_rating_route(api: Api) -> None:
    file = upload_file(api, SCRIPT, filename="чужой.txt")
    wait_for(api, file["id"], "db_ready")
    other = {"Authorization": f"Bearer {issue_token('rating-stranger', 'uploader')}"}
    for method, path, body in (("GET", "report", None), ("GET", "comments", None), ("GET", "recommendation", None),
                               ("GET", "text", None), ("POST", "analysis", None),
                               ("POST", "comments", {"text": "x"}), ("POST", "recommendation", {"text": "x"})):
        response = api.call(method, f"/files/{file['id']}/{path}", headers=other, json=body, allow_redirects=False)
        assert_error(response, 404, "not_found")
    assert_error(api.call("PATCH", f"/files/{file['id']}", headers=other, json={"target_audience": "6+"}), 404)


def test_a_reanalysis_is_accepted_and_rerates_in_place(api: Api) -> None:
    file = upload_file(api, SCRIPT, filename="повтор.txt", target_audience="16+")
    rated = wait_for(api, file["id"], "db_ready")
    accepted = api.post(f"/files/{file['id']}/analysis", role="uploader")
    assert accepted.status_code == 202 and accepted.json()["analysis_run"] == 1
    deadline = time.monotonic() + 60
    while True:
        report = api.get(f"/files/{file['id']}/report", role="uploader").json()
        if report["rated_run"] == 1:
            break
        assert time.monotonic() < deadline, "the re-analysis never finished"
        time.sleep(0.3)
    after = api.get(f"/files/{file['id']}", role="uploader").json()
    assert after["status"] == "db_ready" and after["sequence"] > rated["sequence"] and after["rating"] == "18+"


def test_the_text_route_serves_the_derived_text_of_a_docx_not_the_docx(api: Api) -> None:
    """The studio's old system served the original upload where the processed text was due."""
    import requests
    from docx import Document

    out = io.BytesIO()
    document = Document()
    for line in ("ИНТ. КУХНЯ — НОЧЬ", "Иван курит у окна."):
        document.add_paragraph(line)
    document.save(out)
    file = upload_file(api, out.getvalue(), filename="сцена.docx",
                       content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    wait_for(api, file["id"], "db_ready")
    link = api.get(f"/files/{file['id']}/text", role="uploader", allow_redirects=False)
    assert link.status_code == 302
    served = requests.get(link.headers["Location"], timeout=30)
    assert not served.content.startswith(b"PK") and "Иван курит у окна." in served.content.decode("utf-8")
    assert served.headers["Content-Type"].startswith("text/plain")
    original = api.get(f"/files/{file['id']}/download", role="uploader", allow_redirects=False)
    assert requests.get(original.headers["Location"], timeout=30).content.startswith(b"PK")

"""The rating service on in-process moto and the settable clock: the built-in analyzer as a refer
client, ingestion, statuses, comments and overrides, the report (JSON and xlsx), re-analysis,
the derived text, and the expiry of keys nobody downloaded."""
from __future__ import annotations

import io
import json
from typing import Any

import pytest

from chalicelib.clock import SettableClock
from chalicelib.refer.schemas import EXAMPLE
from chalicelib.review import pipeline, report, rules
from chalicelib.review.models import FindingItem
from chalicelib.status import FileStatus
from chalicelib.uploads.models import FileRow
from tests.unit.conftest import auth

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCRIPT = """ИНТ. КУХНЯ — НОЧЬ

Иван достаёт пистолет и стреляет в соседа. Кровь на полу, труп у двери.

ИВАН
Блядь, я его убил.

НАТ. ДВОР — ДЕНЬ

Дети играют в мяч. Солнце.

ИНТ. БАР — ВЕЧЕР

Мария пьёт водку и курит сигарету.
""".encode()


@pytest.fixture(autouse=True, scope="module")
def default_catalog(aws) -> None:  # noqa: ANN001
    """The project's default catalog, loaded as `make dev` loads it (idempotent upsert)."""
    from chalicelib.catalog import service as catalog
    from infra.stack import DEFAULT_CATALOG

    catalog.import_workbook(DEFAULT_CATALOG.read_bytes())


def upload(http, aws, body: bytes = SCRIPT, *, kind: str = "screenplay", content_type: str = "text/plain",
           filename: str = "сценарий.txt", target: str | None = "12+", sub: str = "unit-uploader") -> str:
    spec: dict[str, Any] = {"filename": filename, "size": len(body), "content_type": content_type, "kind": kind}
    if target:
        spec["target_audience"] = target
    created = http.http.post("/files", headers=auth("uploader", sub), body=json.dumps(spec))
    assert created.status_code == 201, created.body
    file_id = json.loads(created.body)["id"]
    aws.client("s3").put_object(Bucket=aws.settings.media_bucket, Key=f"uploads/{file_id}", Body=body)
    event = http.events.generate_sqs_event(message_bodies=[json.dumps(http.events.generate_s3_event(
        bucket=aws.settings.media_bucket, key=f"uploads/{file_id}"))], queue_name=aws.settings.uploads_queue)
    http.lambda_.invoke("on_upload_stored", event)
    return file_id


def deliver(http, aws, *messages: dict[str, Any]) -> None:
    """What the analysis queue would hand Lambda: hand-built SQS events, one message each."""
    for message in messages:
        event = http.events.generate_sqs_event(message_bodies=[json.dumps(message)],
                                               queue_name=aws.settings.analysis_queue)
        http.lambda_.invoke("on_analysis", event)


def analyze(http, aws, file_id: str) -> FileRow:
    row = FileRow.get(file_id, consistent_read=True)
    deliver(http, aws, {"action": "analyze", "file_id": file_id, "issue": int(row.refer_issue)})
    return FileRow.get(file_id, consistent_read=True)


def get(http, path: str, sub: str = "unit-uploader", role: str = "uploader", **headers: str):  # noqa: ANN201
    return http.http.get(path, headers={**auth(role, sub), **headers})


def body(response) -> Any:  # noqa: ANN001
    return json.loads(response.body)


def test_a_stored_screenplay_goes_to_the_built_in_analyzer_and_ends_db_ready(http, aws) -> None:
    sqs = aws.client("sqs")
    url = aws.queue_url(aws.settings.analysis_queue)
    sqs.purge_queue(QueueUrl=url)  # other tests' messages (nothing drains this queue in the unit tier)
    file_id = upload(http, aws)
    sent = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                              VisibilityTimeout=0).get("Messages", [])]
    assert {"action": "analyze", "file_id": file_id, "issue": 1} in sent
    row = analyze(http, aws, file_id)
    assert row.status == FileStatus.DB_READY, row.error
    assert rules.BUILTIN_SUB in row.refer_downloaders and row.refer_frozen_window is not None  # claimed by key
    assert row.rating == row.ai_rating and rules.age_rank(row.rating) >= rules.age_rank("16+")
    assert row.text_key == f"derived/{file_id}.txt"
    shown = body(get(http, f"/files/{file_id}"))
    assert shown["rating"] == row.rating and shown["target_audience"] == "12+" and shown["text_available"]
    listed = body(get(http, "/files"))["results"]
    assert any(f["id"] == file_id and f["rating"] == row.rating for f in listed)


def test_duplicate_deliveries_change_nothing_twice(http, aws) -> None:
    file_id = upload(http, aws)
    row = analyze(http, aws, file_id)
    findings = {i.id: i.data for i in FindingItem.query(file_id)}
    sequence = int(row.sequence)
    message = {"action": "analyze", "file_id": file_id, "issue": 1}
    deliver(http, aws, message, message, {"action": "ingest", "file_id": file_id, "analyzer": rules.BUILTIN_SUB})
    again = FileRow.get(file_id, consistent_read=True)
    assert again.status == FileStatus.DB_READY and int(again.sequence) == sequence
    assert {i.id: i.data for i in FindingItem.query(file_id)} == findings


def test_a_crash_between_findings_and_the_move_resumes(http, aws) -> None:
    """The result is stored (ready) and half the findings are written, nothing more: the
    redelivered message writes them all and moves the file on."""
    file_id = upload(http, aws)
    row = analyze(http, aws, file_id)
    items = list(FindingItem.query(file_id))
    assert len(items) >= 3
    for item in items[: len(items) // 2]:
        item.delete()
    from chalicelib.review.models import MarkItem

    MarkItem.get(file_id, "M#" + rules.BUILTIN_SUB).delete()
    row.update(actions=[FileRow.status.set(FileStatus.READY.value), FileRow.rating.remove()])
    deliver(http, aws, {"action": "analyze", "file_id": file_id, "issue": 1})
    after = FileRow.get(file_id, consistent_read=True)
    assert after.status == FileStatus.DB_READY and after.rating
    assert {i.id for i in FindingItem.query(file_id)} == {i.id for i in items}


def test_the_report_lists_exceedances_and_follows_the_target_without_reanalysis(http, aws) -> None:
    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    first = body(get(http, f"/files/{file_id}/report"))
    assert first["target_audience"] == "12+" and first["exceeds_target"] is True and not first["truncated"]
    assert first["exceedances"] and all(rules.exceeds(f["age"], "12+") and f["advice"] for f in first["exceedances"])
    assert {f["category"] for f in first["findings"]} >= {"language.obscene"}
    assert first["scenes"][0]["heading"].startswith("ИНТ. КУХНЯ")
    assert first["categories"] and all(c["findings"] >= 1 for c in first["categories"])
    used = {q for f in first["findings"] for q in f["qualifiers"]}
    assert used and set(first["qualifiers"]) == used and all(first["qualifiers"].values())  # each explained
    before = set(f["id"] for f in first["findings"])
    patched = http.http.patch(f"/files/{file_id}", headers=auth("uploader"), body=json.dumps({"target_audience": "18+"}))
    assert patched.status_code == 200 and body(patched)["target_audience"] == "18+"
    second = body(get(http, f"/files/{file_id}/report"))
    assert second["exceeds_target"] is False and second["exceedances"] == []
    assert set(f["id"] for f in second["findings"]) == before  # the same findings: nothing re-ran
    cleared = http.http.patch(f"/files/{file_id}", headers=auth("uploader"), body=json.dumps({"target_audience": None}))
    assert body(cleared)["target_audience"] is None
    assert body(get(http, f"/files/{file_id}/report"))["exceedances"] == []


def test_a_report_before_db_ready_is_a_409(http, aws) -> None:
    file_id = upload(http, aws)
    response = get(http, f"/files/{file_id}/report")
    assert response.status_code == 409 and body(response)["error"]["code"] == "not_rated"


def test_a_person_overrides_a_severity_and_the_final_rating_follows(http, aws) -> None:
    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    findings = body(get(http, f"/files/{file_id}/report"))["findings"]
    for f in findings:  # the owner judges every finding mild (a reading of the scene the AI missed)
        response = http.http.post(f"/files/{file_id}/comments", headers=auth("uploader"), body=json.dumps(
            {"finding_id": f["id"], "severity": "none", "text": "Условно, в кадре не показано."}))
        assert response.status_code == 201, response.body
        assert body(response)["source"] == "user" and body(response)["category"] == f["category"]
    after = body(get(http, f"/files/{file_id}/report"))
    assert after["rating"] == "0+" and rules.age_rank(after["ai_rating"]) >= rules.age_rank("16+")
    judged = {f["id"]: f["severity"] for f in findings}
    assert all(f["overridden_by"]["author"] == "unit-uploader" and f["ai_severity"] == judged[f["id"]]
               for f in after["findings"] if judged[f["id"]] != "none")
    assert all("overridden_by" not in f for f in after["findings"] if judged[f["id"]] == "none")
    assert body(get(http, f"/files/{file_id}"))["rating"] == "0+"
    recommendation = body(get(http, f"/files/{file_id}/recommendation"))
    assert recommendation["rating"] == "0+" and recommendation["counts"]["overridden"] == sum(
        1 for f in findings if f["severity"] != "none")
    assert recommendation["refer"]["issue"] == 1 and len(recommendation["findings"]) == len(findings)
    concluded = http.http.post(f"/files/{file_id}/recommendation", headers=auth("uploader"),
                               body=json.dumps({"text": "Годится для 12+ после правки сцены 1."}))
    assert body(concluded)["conclusion"]["text"].startswith("Годится")


def test_comments_page_findings_first_then_posts_and_analyzers_need_a_download(http, aws) -> None:
    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    n = FindingItem.count(file_id, FindingItem.sk.startswith("F#"))
    for i in range(3):
        http.http.post(f"/files/{file_id}/comments", headers=auth("uploader"), body=json.dumps({"text": f"note {i}"}))
    seen, path = [], f"/files/{file_id}/comments?limit=2"
    while path:
        page = body(get(http, path))
        assert page["count"] == n + 3
        seen += page["results"]
        path = page["next"][page["next"].index("/files"):] if page["next"] else None
    assert [c["source"] for c in seen] == ["ai"] * n + ["user"] * 3 and len({c["id"] for c in seen}) == n + 3
    assert [c["text"] for c in seen[n:]] == ["note 0", "note 1", "note 2"]
    stranger = http.http.post(f"/files/{file_id}/comments", headers=auth("analyzer", "ai-stranger"),
                              body=json.dumps({"text": "?"}))
    assert stranger.status_code == 404
    # The built-in analyzer downloaded it: its principal may comment, as `ai`.
    ai = http.http.post(f"/files/{file_id}/comments", headers=auth("analyzer", rules.BUILTIN_SUB),
                        body=json.dumps({"text": "Сцена 1 — натурализм.", "severity": "severe"}))
    assert ai.status_code == 201 and body(ai)["source"] == "ai"
    bad = http.http.post(f"/files/{file_id}/comments", headers=auth("uploader"),
                         body=json.dumps({"finding_id": "0" * 32, "text": "x"}))
    assert bad.status_code == 422 and body(bad)["error"]["code"] == "no_such_finding"
    assert get(http, f"/files/{file_id}/comments", sub="someone-else").status_code == 404


@pytest.mark.parametrize(("path", "sent"), [
    ("comments", {"text": "   \n\t "}), ("comments", {"text": "ok\x1b[2J"}), ("comments", {"text": "ok\x00"}),
    ("comments", {"text": "ok", "scene": "1\x07"}), ("comments", {"text": "ok", "category": "a\x85b"}),
    ("recommendation", {"text": " "}), ("recommendation", {"text": "fine\x08"})])
def test_peoples_text_must_say_something_and_hold_no_control_characters(http, aws, path: str, sent: dict) -> None:
    """A blank comment or conclusion says nothing; a terminal escape or NUL in it reached every
    reader of the file (console, CLI, the analyzers' listing). Line breaks and tabs inside stay."""
    file_id = upload(http, aws)
    refused = http.http.post(f"/files/{file_id}/{path}", headers=auth("uploader"), body=json.dumps(sent))
    assert refused.status_code == 422, refused.body
    fine = http.http.post(f"/files/{file_id}/{path}", headers=auth("uploader"),
                          body=json.dumps({"text": "Сцена 1:\n\tслишком подробно.", "scene": "", "category": ""}
                                          if path == "comments" else {"text": "Годится\nдля 12+."}))
    assert fine.status_code in (200, 201), fine.body


def test_the_xlsx_report_opens_and_holds_the_findings(http, aws) -> None:
    from openpyxl import load_workbook

    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    findings = body(get(http, f"/files/{file_id}/report"))["findings"]
    response = get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX)
    assert response.status_code == 200 and response.headers["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.body), read_only=True)
    assert book.sheetnames == ["Summary", "Findings by scene", "Exceedances", "Qualifiers"]
    rows = list(book["Findings by scene"].iter_rows(values_only=True))
    assert len(rows) == len(findings) + 1 and {r[-1] for r in rows[1:]} == {f["id"] for f in findings}
    assert len(list(book["Exceedances"].iter_rows(values_only=True))) > 1
    legend = {r[0]: (r[1], r[2]) for r in list(book["Qualifiers"].iter_rows(values_only=True))[1:]}
    used = [q for f in findings for q in f["qualifiers"]]
    assert set(legend) == set(used) and all(legend[q][1] == used.count(q) for q in legend)
    assert all(meaning and "named by the analyzer" not in meaning for meaning, _ in legend.values())


def test_the_derived_text_is_served_not_the_original(http, aws) -> None:
    docx = _docx(["ИНТ. КУХНЯ — НОЧЬ", "Иван курит."])
    file_id = upload(http, aws, docx, filename="s.docx",
                     content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    analyze(http, aws, file_id)
    response = get(http, f"/files/{file_id}/text")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert f"derived/{file_id}.txt" in location and f"uploads/{file_id}" not in location
    from urllib.parse import unquote, urlparse

    key = unquote(urlparse(location).path).lstrip("/").removeprefix(aws.settings.media_bucket + "/")
    assert key == f"derived/{file_id}.txt"
    text = aws.client("s3").get_object(Bucket=aws.settings.media_bucket, Key=key)["Body"].read().decode()
    assert "Иван курит." in text and not text.startswith("PK")


def _docx(paragraphs: list[str]) -> bytes:
    from docx import Document

    out = io.BytesIO()
    document = Document()
    for p in paragraphs:
        document.add_paragraph(p)
    document.save(out)
    return out.getvalue()


def test_an_unreadable_screenplay_goes_to_error_with_the_reason(http, aws) -> None:
    file_id = upload(http, aws, b"%PDF-1.4 broken", filename="x.pdf", content_type="application/pdf")
    row = analyze(http, aws, file_id)
    assert row.status == FileStatus.ERROR and row.error.startswith("the built-in analyzer cannot read this file")


def test_an_external_result_yields_findings_and_db_ready(http, aws) -> None:
    file_id = upload(http, aws, b"\x00" * 64, kind="video", content_type="video/mp4", filename="clip.mp4")
    key = body(get(http, f"/files/{file_id}/refer"))["key"]
    assert http.http.get(f"/download/{key}", headers=auth("analyzer", "acme-ai")).status_code == 302
    posted = http.http.post(f"/download/{key}", headers=auth("analyzer", "acme-ai"), body=json.dumps(EXAMPLE))
    assert posted.status_code == 201
    assert FileRow.get(file_id, consistent_read=True).status == FileStatus.READY
    deliver(http, aws, {"action": "ingest", "file_id": file_id, "analyzer": "acme-ai"})
    row = FileRow.get(file_id, consistent_read=True)
    assert row.status == FileStatus.DB_READY
    report_body = body(get(http, f"/files/{file_id}/report"))
    by_category = {f["category"]: f for f in report_body["findings"]}
    # "violence" and "obscene_language" are the catalog's violence.* and language.obscene.
    assert by_category["language.obscene"]["age"] == "18+" and report_body["rating"] == "18+"
    assert any(c.startswith("violence.") for c in by_category)
    comments = body(get(http, f"/files/{file_id}/comments", sub="acme-ai", role="analyzer"))["results"]
    assert {c["text"] for c in comments} == {f["comment"] for f in EXAMPLE["findings"]}


def test_a_video_nobody_downloads_errors_and_a_reissue_brings_it_back(http, aws, clock: SettableClock) -> None:
    file_id = upload(http, aws, b"\x00" * 64, kind="video", content_type="video/mp4", filename="clip.mp4")
    row = FileRow.get(file_id, consistent_read=True)
    clock.advance(601)
    from chalicelib.refer import service as refer

    refer.on_timer([json.dumps({"file_id": file_id, "issue": 1, "due": row.refer_due_at})])
    for _ in range(7):  # the chain of timers, fired as they come due
        row = FileRow.get(file_id, consistent_read=True)
        if row.refer_due_at is None:
            break
        refer.on_timer([json.dumps({"file_id": file_id, "issue": 1, "due": row.refer_due_at})])
    row = FileRow.get(file_id, consistent_read=True)
    assert (row.status, row.error, row.error_code) == (FileStatus.ERROR, "no analyzer picked it up", "unclaimed")
    assert aws.client("s3").head_object(Bucket=aws.settings.media_bucket, Key=f"uploads/{file_id}")  # kept
    sequence = int(row.sequence)
    response = http.http.post(f"/files/{file_id}/refer", headers=auth("uploader"))
    assert response.status_code == 200, response.body
    assert body(response)["state"] == "active" and body(response)["issue"] == 2
    back = FileRow.get(file_id, consistent_read=True)
    assert back.status == FileStatus.PROCESSING and back.error is None and int(back.sequence) == sequence + 2


def test_a_reanalysis_reruns_against_todays_catalog_without_going_backwards(http, aws) -> None:
    from chalicelib.catalog import service as catalog

    file_id = upload(http, aws)
    row = analyze(http, aws, file_id)
    assert http.http.post(f"/files/{file_id}/analysis", headers=auth("uploader", "someone-else")).status_code == 404
    entry = catalog.get("substances.tobacco")
    catalog.replace("substances.tobacco", {**entry, "ages": ["18+"]})
    try:
        response = http.http.post(f"/files/{file_id}/analysis", headers=auth("uploader"))
        assert response.status_code == 202 and body(response)["analysis_run"] == 1
        deliver(http, aws, {"action": "rerate", "file_id": file_id, "run": 1})
        after = FileRow.get(file_id, consistent_read=True)
        assert after.status == FileStatus.DB_READY and int(after.rated_run) == 1
        assert int(after.sequence) > int(row.sequence)
        tobacco = [f for f in body(get(http, f"/files/{file_id}/report"))["findings"]
                   if f["category"] == "substances.tobacco"]
        assert tobacco and all(f["age"] == "18+" for f in tobacco if f["severity"] != "none")
    finally:
        catalog.replace("substances.tobacco", entry)


def test_a_burst_of_reanalysis_requests_reads_the_script_once(http, aws, monkeypatch) -> None:
    """Each POST /analysis queues a run; every queued run used to read and rate the whole upload
    again (up to 50 MiB and minutes of a 1 GB Lambda each): 20 clicks, 20 full analyses. A run
    that a later one supersedes now does nothing; the latest does the work once."""
    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    runs = [body(http.http.post(f"/files/{file_id}/analysis", headers=auth("uploader")))["analysis_run"]
            for _ in range(5)]
    assert runs == [1, 2, 3, 4, 5]
    import chalicelib.reading

    reads = []
    real = chalicelib.reading.read
    monkeypatch.setattr(chalicelib.reading, "read", lambda *a, **k: reads.append(1) or real(*a, **k))
    pipeline.handle(json.dumps({"action": "rerate", "file_id": file_id, "run": run}) for run in runs)
    assert len(reads) == 1
    assert int(FileRow.get(file_id, consistent_read=True).rated_run) == 5


def test_the_worst_report_stays_under_6_mb_and_says_it_was_cut() -> None:
    """20,000 findings with every text at its bound: the JSON stays under the limit."""
    from chalicelib.payload import LAMBDA_PAYLOAD_LIMIT, response_cost

    row = FileRow("f" * 32, status="db_ready", target_audience="6+", filename="big.txt", analysis_run=0)
    findings = [{"id": f"{n:032x}", "analyzer": "ai", "category": f"cat.{n % 500}", "category_name": "Ж" * 200,
                 "severity": "severe", "age": "18+", "ages": ["12+", "18+"], "basis": "Ф" * 1000,
                 "qualifiers": ["к" * 100] * 20, "scene": n, "scene_label": "С" * 50, "heading": "Щ" * 500,
                 "line": n + 1, "excerpt": "Э" * rules.EXCERPT_MAX, "evidence": 5, "labelling": None,
                 "advice": "Ю" * 2000, "comment": "", "written_at": "2026-11-23T10:00:00.000Z"}
                for n in range(20_000)]
    body_ = report.render(row, findings, "6+")
    text = json.dumps(body_, ensure_ascii=False)
    assert response_cost(text) < LAMBDA_PAYLOAD_LIMIT and body_["truncated"] is True
    assert body_["counts"]["findings"] == 20_000 and body_["findings"] and body_["exceedances"]


@pytest.mark.parametrize(("name", "expected"), [("language.obscene", "language.obscene"),
                                                ("obscene_language", "language.obscene"),
                                                ("Violence", "violence.episodic"), ("nonsense", None)])
def test_external_category_names_map_onto_the_catalog(aws, name: str, expected: str | None) -> None:
    found = pipeline.catalog().find(name)
    assert (found.id if found else None) == expected


def test_a_settle_that_read_too_early_loses_and_reads_again(http, aws, monkeypatch) -> None:
    """Two analyzers' results settle at once: the one whose findings read came before the other's
    write must not overwrite the newer rating with its stale one."""
    from chalicelib.review import store
    from chalicelib.status import guarded_update

    file_id = upload(http, aws)
    rated = analyze(http, aws, file_id)
    true_final, true_ai = store.ratings(file_id)
    real = store.ratings
    calls = []

    def racing(fid: str) -> tuple[str, str]:
        calls.append(fid)
        if len(calls) == 1:  # meanwhile another settle writes its (correct) rating
            other = FileRow.get(fid, consistent_read=True)
            guarded_update(other, [FileRow.rating.set(true_final), FileRow.ai_rating.set(true_ai),
                                   FileRow.rating_version.set(int(other.rating_version) + 1)], None)
            return "6+", "6+"  # this settle's findings read came too early
        return real(fid)

    monkeypatch.setattr(store, "ratings", racing)
    stale = FileRow.get(file_id, consistent_read=True)
    store.settle(stale, run=1)
    after = FileRow.get(file_id, consistent_read=True)
    assert len(calls) == 2 and (after.rating, after.ai_rating) == (true_final, true_ai) != ("6+", "6+")
    assert int(after.rating_version) == int(rated.rating_version) + 2 and int(after.rated_run) == 1


def test_a_workbook_too_large_for_a_lambda_response_comes_from_s3(http, aws, monkeypatch) -> None:
    from openpyxl import load_workbook

    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    monkeypatch.setattr(report, "XLSX_INLINE_MAX", 1000)
    response = get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX)
    assert response.status_code == 302, response.body
    from urllib.parse import unquote, urlparse

    key = unquote(urlparse(response.headers["Location"]).path).lstrip("/").removeprefix(aws.settings.media_bucket + "/")
    assert key.startswith(f"reports/{file_id}/") and key.endswith(".xlsx")
    data = aws.client("s3").get_object(Bucket=aws.settings.media_bucket, Key=key)["Body"].read()
    assert load_workbook(io.BytesIO(data), read_only=True).sheetnames[0] == "Summary"


def test_a_large_workbook_is_built_by_the_queue_then_served_from_s3(http, aws, monkeypatch) -> None:
    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    monkeypatch.setattr(report, "LARGE_WORKBOOK", 1)  # every workbook counts as large
    first = get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX)
    assert first.status_code == 202 and first.headers["Retry-After"] == "5"
    key = report.workbook_key(FileRow.get(file_id, consistent_read=True))
    deliver(http, aws, {"action": "workbook", "file_id": file_id, "key": key})
    second = get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX)
    assert second.status_code == 302 and key in second.headers["Location"]
    # The report changes (a new target): the stored workbook no longer names it.
    http.http.patch(f"/files/{file_id}", headers=auth("uploader"), body=json.dumps({"target_audience": "18+"}))
    assert get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX).status_code == 202
    assert report.store_workbook(file_id, key) == "stale"


def test_polling_for_a_large_workbook_queues_one_build(http, aws, monkeypatch, clock: SettableClock) -> None:
    """The 202 tells the client to ask again in 5 s; each ask used to queue another build of the
    whole workbook (19 s for 20,000 findings), so polling, or a script hammering the route,
    multiplied the work. One build is queued per workbook state (again only if it got lost)."""
    file_id = upload(http, aws)
    analyze(http, aws, file_id)
    monkeypatch.setattr(report, "LARGE_WORKBOOK", 1)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(pipeline, "_send", lambda messages: sent.extend(messages))
    for _ in range(5):
        assert get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX).status_code == 202
    assert [m["action"] for m in sent] == ["workbook"]
    clock.advance(pipeline.WORKBOOK_RETRY_AFTER + 1)  # the build never came: one more request goes
    assert get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX).status_code == 202
    assert len(sent) == 2 and sent[0] == sent[1]


def test_an_analyzers_control_characters_and_formulas_cannot_break_or_arm_the_workbook(http, aws) -> None:
    """An analyzer's excerpt is its own text: control characters a worksheet cannot hold made the
    owner's xlsx report a 500 (openpyxl's IllegalCharacterError), and a formula or a tab/CR-led
    one must come out as text."""
    from openpyxl import load_workbook

    file_id = upload(http, aws, b"\x00" * 64, kind="video", content_type="video/mp4", filename="clip.mp4")
    key = body(get(http, f"/files/{file_id}/refer"))["key"]
    assert http.http.get(f"/download/{key}", headers=auth("analyzer", "acme-ai")).status_code == 302
    document = json.loads(json.dumps(EXAMPLE))
    document["findings"][0].update(excerpt="кровь\x01\x0b\x1fна полу", scene_heading='=HYPERLINK("http://x.example")')
    document["findings"][1].update(excerpt="\t=1+1", advice="\r@SUM(A1)")
    posted = http.http.post(f"/download/{key}", headers=auth("analyzer", "acme-ai"), body=json.dumps(document))
    assert posted.status_code == 201, posted.body
    deliver(http, aws, {"action": "ingest", "file_id": file_id, "analyzer": "acme-ai"})
    response = get(http, f"/files/{file_id}/report?format=xlsx", Accept=XLSX)
    assert response.status_code == 200, response.body
    rows = list(load_workbook(io.BytesIO(response.body))["Findings by scene"].iter_rows(values_only=True))
    cells = [str(c) for row in rows[1:] for c in row if isinstance(c, str)]
    assert "кровь\ufffd\ufffd\ufffdна полу" in cells
    assert {"'=HYPERLINK(\"http://x.example\")", "'\t=1+1", "'\r@SUM(A1)"} <= set(cells)


def test_analyzers_cannot_use_up_the_owners_comments(http, aws, monkeypatch) -> None:
    """Any analyzer that downloaded the file may comment: a flood of theirs once filled the file's
    10,000 and the owner could not comment (409) any more. Analyzers have a smaller cap of their own."""
    from chalicelib.review import comments

    monkeypatch.setattr(comments, "MAX_COMMENTS", 5)
    monkeypatch.setattr(comments, "MAX_AI_COMMENTS", 3)
    file_id = upload(http, aws)
    analyze(http, aws, file_id)  # the built-in analyzer downloaded it: it may comment

    def post(role: str, sub: str) -> int:
        return http.http.post(f"/files/{file_id}/comments", headers=auth(role, sub),
                              body=json.dumps({"text": "ещё"})).status_code

    assert [post("analyzer", rules.BUILTIN_SUB) for _ in range(4)] == [201, 201, 201, 409]
    assert [post("uploader", "unit-uploader") for _ in range(3)] == [201, 201, 409]

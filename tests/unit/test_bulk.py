"""Bulk uploads on in-process moto: derivation, stream lines, logs paging, routes end to end."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pytest

from chalicelib.bulk import logs, progress, stream
from chalicelib.bulk.logs import Line
from chalicelib.bulk.progress import ItemView
from chalicelib.ids import new_id
from chalicelib.status import BulkStatus, bulk_status
from tests.unit.conftest import auth

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def view(status: str | None, account: str = "a", *, cancelled: bool = False, uploaded: bool = False,
         at: str | None = "2026-01-01T00:00:00.000Z") -> ItemView:
    return ItemView(0, account, status, uploaded, None if status == "pending" and not cancelled else at, cancelled)


@pytest.mark.parametrize(("counts", "started", "expected"), [
    ((3, 0, 0, 0), False, BulkStatus.PENDING),
    ((3, 0, 0, 0), True, BulkStatus.RUNNING),
    ((1, 2, 0, 0), False, BulkStatus.RUNNING),
    ((0, 3, 0, 0), True, BulkStatus.COMPLETED),
    ((0, 2, 1, 0), True, BulkStatus.PARTIALLY_COMPLETED),
    ((0, 2, 0, 1), True, BulkStatus.PARTIALLY_COMPLETED),
    ((0, 0, 2, 1), True, BulkStatus.FAILED),
])
def test_bulk_status_from_counts(counts: tuple[int, int, int, int], started: bool, expected: BulkStatus) -> None:
    assert bulk_status(*counts, started=started) is expected


def test_an_item_succeeds_from_processing_on_and_fails_in_error() -> None:
    states = [progress.state(view(s)) for s in ("pending", "processing", "ready", "db_ready", "error", None)]
    assert states == ["pending", "succeeded", "succeeded", "succeeded", "failed", "failed"]
    assert progress.state(view("error", cancelled=True)) == "cancelled"


def test_summaries_per_account_and_times() -> None:
    items = [view("processing", "a", at="2026-01-01T00:00:01.000Z"), view("error", "a", at="2026-01-01T00:00:03.000Z"),
             view("db_ready", "b", at="2026-01-01T00:00:02.000Z"), view("pending", "c")]
    summary = progress.summarize(items)
    assert (summary["status"], summary["succeeded"], summary["failed"], summary["pending"]) == ("running", 2, 1, 1)
    assert summary["percent"] == 75.0 and summary["completed_at"] is None
    assert summary["started_at"] == "2026-01-01T00:00:01.000Z"
    accounts = {a["account"]: a for a in summary["accounts"]}
    assert accounts["a"]["status"] == "partially_completed" and accounts["a"]["completed_at"] == "2026-01-01T00:00:03.000Z"
    assert accounts["b"]["status"] == "completed" and accounts["c"]["status"] == "pending"


def test_live_messages_stay_under_a_websocket_frame() -> None:
    items = [view("processing", f"account-{'x' * 50}-{i}") for i in range(1000)]
    message = progress.progress_message("t" * 32, progress.summarize(items))
    assert message["type"] == "progress" and message["accounts_omitted"] == 900
    assert len(json.dumps(message).encode()) < 32 * 1024
    line = {"seq": 7, "at": "2026-01-01T00:00:00.000Z", "account": "a", "level": "error", "message": "ж" * 1000,
            "file_id": "f" * 32}
    pushed = progress.log_message("t" * 32, line)
    assert pushed["type"] == "log" and pushed["seq"] == 7 and len(json.dumps(pushed).encode()) < 32 * 1024


# ---------------------------------------------------------------- the files stream

def image(**values: Any) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key] = {"BOOL": value}
        elif isinstance(value, int):
            out[key] = {"N": str(value)}
        else:
            out[key] = {"S": value}
    return out


def record(old: dict[str, Any], new: dict[str, Any], name: str = "MODIFY") -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda receives it (NEW_AND_OLD_IMAGES)."""
    return {"eventID": new_id(), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/kadr-dev-files/stream/2026-01-01T00:00:00.000",
            "dynamodb": {"ApproximateCreationDateTime": 1790000000, "Keys": {"file_id": new["file_id"]},
                         "NewImage": new, **({"OldImage": old} if old else {}), "SequenceNumber": "100",
                         "SizeBytes": 300, "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def test_stream_records_make_one_line_per_move_of_a_bulk_file(aws) -> None:
    task, file_id = new_id(), new_id()
    base = {"file_id": file_id, "bulk_task": task, "bulk_account": "studio", "filename": "a.txt", "part_count": 1}
    pending = image(**base, status="pending", sequence=1, completed=False)
    uploaded = image(**base, status="pending", sequence=1, completed=True)
    stored = image(**base, status="processing", sequence=3, completed=True, stored_size=10)
    failed = image(**base, status="error", sequence=4, completed=True, error="stored size 9 bytes differs")
    records = [record({}, pending, "INSERT"), record(pending, uploaded), record(uploaded, stored),
               record(stored, failed), record(image(file_id=file_id, status="pending"),
                                              image(file_id=file_id, status="processing"))]
    assert stream.handle(records) == {task}
    assert stream.handle(records[1:3]) == set()  # redelivered: nothing twice
    lines = logs.read(task)["lines"]
    assert [(line["seq"], line["level"]) for line in lines] == [(1, "info"), (2, "info"), (3, "error")]
    assert "upload complete" in lines[0]["message"] and "stored and verified" in lines[1]["message"]
    assert lines[2]["message"] == "a.txt: failed: stored size 9 bytes differs"
    assert {line["account"] for line in lines} == {"studio"} and lines[0]["file_id"] == file_id


def test_log_pages_follow_after_and_next_with_filters(aws) -> None:
    task = new_id()
    for i in range(7):
        logs.append(task, Line("a" if i % 2 else "b", "error" if i == 5 else "info", f"line {i}"))
    first = logs.read(task, limit=3)
    assert [line["seq"] for line in first["lines"]] == [1, 2, 3] and first["next"] == "3"
    rest = logs.read(task, after=int(first["next"]), limit=10)
    assert [line["seq"] for line in rest["lines"]] == [4, 5, 6, 7] and rest["next"] is None
    assert [line["message"] for line in logs.read(task, account="a")["lines"]] == ["line 1", "line 3", "line 5"]
    assert [line["seq"] for line in logs.read(task, level="warning")["lines"]] == [6]
    seen: list[dict[str, Any]] = []
    logs.add_sink(lambda t, line: seen.append(line))
    try:
        logs.append(task, Line(None, "info", "task-level"))
    finally:
        logs._sinks.clear()
    assert seen[0]["seq"] == 8 and logs.read(task, account="")["lines"][-1]["message"] == "task-level"


# ---------------------------------------------------------------- routes

def _item(name: str, data: bytes, account: str, **extra: Any) -> dict[str, Any]:
    return {"filename": name, "size": len(data), "content_type": "text/plain", "kind": "screenplay",
            "account": account, **extra}


def _store(http, aws, file_id: str, data: bytes) -> None:
    aws.client("s3").put_object(Bucket=aws.settings.media_bucket, Key=f"uploads/{file_id}", Body=data)
    s3_event = json.dumps(http.events.generate_s3_event(bucket=aws.settings.media_bucket, key=f"uploads/{file_id}"))
    http.lambda_.invoke("on_upload_stored", http.events.generate_sqs_event(
        message_bodies=[s3_event], queue_name=aws.settings.uploads_queue))


def test_a_task_from_create_to_report_retry_and_cancel(http, aws) -> None:
    data = [f"INT. ROOM {i} - DAY\n".encode() for i in range(5)]
    items = [_item(f"f{i}.txt", d, "a" if i < 3 else "b") for i, d in enumerate(data)]
    items[1]["sha256"] = "0" * 64  # wrong
    owner = auth("uploader", "bulk-owner")
    made = http.http.post("/bulk-uploads", headers={**owner, "Idempotency-Key": "k1"},
                          body=json.dumps({"name": "Unit task", "items": items}))
    assert made.status_code == 201, made.body
    task = json.loads(made.body)
    assert [i["index"] for i in task["items"]] == [0, 1, 2, 3, 4] and all(i["upload"] for i in task["items"])
    again = json.loads(http.http.post("/bulk-uploads", headers={**owner, "Idempotency-Key": "k1"},
                                      body=json.dumps({"name": "Unit task", "items": items})).body)
    assert again["id"] == task["id"] and [i["file_id"] for i in again["items"]] == [i["file_id"] for i in task["items"]]
    path = f"/bulk-uploads/{task['id']}"
    assert json.loads(http.http.get(path, headers=owner).body)["status"] == "pending"
    assert http.http.get(path, headers=auth("uploader", "someone-else")).status_code == 404
    for i in (0, 1, 2, 3):
        _store(http, aws, task["items"][i]["file_id"], data[i])
    detail = json.loads(http.http.get(path, headers=owner).body)
    accounts = {a["account"]: a for a in detail["accounts"]}
    assert accounts["a"]["status"] == "partially_completed" and accounts["a"]["failed"] == 1
    assert accounts["b"]["status"] == "running" and detail["status"] == "running" and detail["percent"] == 80.0
    cancelled = json.loads(http.http.post(f"{path}/accounts/b/cancel", headers=owner, body="{}").body)
    assert cancelled["cancelled"] == [4]
    detail = json.loads(http.http.get(path, headers=owner).body)
    assert detail["status"] == "partially_completed" and detail["cancelled"] == 1 and detail["completed_at"]

    report = http.http.get(f"{path}/report?format=csv", headers=owner)
    rows = list(csv.DictReader(io.StringIO(report.body.decode() if isinstance(report.body, bytes) else report.body)))
    assert [r["result"] for r in rows] == ["succeeded", "failed", "succeeded", "succeeded", "cancelled"]
    assert rows[1]["error_code"] == "sha256_mismatch" and rows[4]["error_code"] == "cancelled"
    assert rows[0]["sha256"] == ""  # none declared
    xlsx = http.http.get(f"{path}/report?format=xlsx", headers={**owner, "Accept": XLSX})
    assert xlsx.status_code == 200 and xlsx.headers["Content-Type"] == XLSX
    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.body)).active
    assert [c.value for c in sheet[3]][:5] == [1, "a", "f1.txt", task["items"][1]["file_id"], "failed"]

    fixed = hashlib.sha256(data[1]).hexdigest()
    retried = json.loads(http.http.post(f"{path}/accounts/a/retry", headers=owner,
                                        body=json.dumps({"items": [{"index": 1, "sha256": fixed}]})).body)
    assert [i["index"] for i in retried["items"]] == [1] and retried["items"][0]["file_id"] != task["items"][1]["file_id"]
    _store(http, aws, retried["items"][0]["file_id"], data[1])
    accounts = {a["account"]: a for a in json.loads(http.http.get(path, headers=owner).body)["accounts"]}
    assert accounts["a"]["status"] == "completed" and accounts["b"]["status"] == "partially_completed"
    lines = json.loads(http.http.get(f"{path}/logs?account=a", headers=owner).body)["lines"]
    messages = [line["message"] for line in lines]
    assert any("f1.txt: created as file" in m for m in messages)
    assert any(m.startswith("retry: 1 failed item(s)") for m in messages)
    listed = json.loads(http.http.get("/bulk-uploads", headers=owner).body)["results"]
    assert task["id"] in [t["id"] for t in listed]
    from chalicelib.bulk.service import live_progress

    pushed = live_progress(task["id"])
    assert pushed["type"] == "progress" and pushed["status"] == "partially_completed"
    assert {a["account"]: a["status"] for a in pushed["accounts"]} == {"a": "completed", "b": "partially_completed"}


def test_bad_bodies_are_refused_before_any_upload(http, aws) -> None:
    owner = auth("uploader")
    bad_account = http.http.post("/bulk-uploads", headers=owner, body=json.dumps(
        {"name": "x", "items": [_item("a.txt", b"x", "no spaces")]}))
    assert bad_account.status_code == 422
    too_many = http.http.post("/bulk-uploads", headers=owner, body=json.dumps(
        {"name": "x", "items": [_item("a.txt", b"x", "a")] * 1001}))
    assert too_many.status_code == 422
    wrong_type = http.http.post("/bulk-uploads", headers=owner, body=json.dumps(
        {"name": "x", "items": [_item("a.txt", b"x", "a"), {**_item("b.mp4", b"x", "a"), "kind": "video"}]}))
    assert wrong_type.status_code == 422 and json.loads(wrong_type.body)["error"]["details"][0]["loc"] == ["items", 1]


@pytest.mark.parametrize("name", ["bad\x1b[2Jname", "report\u202eslx.exe", "two\nlines"])
def test_a_task_name_with_control_characters_or_direction_overrides_is_refused(http, aws, name: str) -> None:
    """The task's name is shown like a file's (console, CLI, the report's download name), and a file
    name with these is refused already: a terminal escape or a reversed extension must not pass here."""
    made = http.http.post("/bulk-uploads", headers=auth("uploader"), body=json.dumps(
        {"name": name, "items": [_item("a.txt", b"x", "a")]}))
    assert made.status_code == 422, made.body
    assert json.loads(made.body)["error"]["details"][0]["loc"] == ["name"]


def test_retry_and_cancel_with_nothing_to_do_answer_empty_lists(http, aws) -> None:
    owner = auth("uploader", "bulk-idle")
    task = json.loads(http.http.post("/bulk-uploads", headers=owner, body=json.dumps(
        {"name": "idle", "items": [_item("a.txt", b"abc", "a")]})).body)
    retried = http.http.post(f"/bulk-uploads/{task['id']}/accounts/a/retry", headers=owner, body="{}")
    assert retried.status_code == 200 and json.loads(retried.body)["items"] == []
    assert http.http.post(f"/bulk-uploads/{task['id']}/accounts/zz/cancel", headers=owner).status_code == 404


def test_the_local_console_colours_lines_by_level_and_escapes_control_characters() -> None:
    from infra.console import COLOURS, RESET, format_line

    line = {"seq": 3, "account": "north", "level": "error", "message": "a.txt: failed\x1b[2J"}
    coloured = format_line("0123456789abcdef", line)
    assert coloured.startswith(COLOURS["error"]) and coloured.endswith(RESET)
    assert format_line("0123456789abcdef", {**line, "account": None, "level": "info"}, colour=False) == (
        "bulk 01234567 #3 [-] INFO    a.txt: failed\\x1b[2J")
    assert COLOURS["info"] != COLOURS["warning"] != COLOURS["error"]


def test_cli_logs_follow_pages_by_after_and_keeps_polling(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from kadr_cli import bulk as bulk_cli

    def line(seq: int) -> dict[str, Any]:
        return {"seq": seq, "at": "2026-01-01T00:00:00.000Z", "account": "a", "level": "info",
                "message": f"m{seq}", "file_id": None}

    pages = [{"lines": [line(1), line(2)], "next": "2"}, {"lines": [line(3)], "next": None},
             {"lines": [], "next": None}, {"lines": [line(4)], "next": None}]
    asked: list[str] = []

    class Client:
        def json(self, method: str, path: str) -> dict[str, Any]:
            asked.append(path)
            return pages.pop(0)

    class Enough(Exception):
        pass

    def sleep(seconds: float) -> None:
        if not pages:
            raise Enough()

    monkeypatch.setattr(bulk_cli.time, "sleep", sleep)
    args = argparse.Namespace(task="t" * 32, account="a", level=None, follow=True, interval=0.01)
    with pytest.raises(Enough):
        bulk_cli._logs(Client(), args)
    assert [p.split("after=")[1].split("&")[0] for p in asked] == ["0", "2", "3", "3"]
    assert "account=a" in asked[0]
    assert [out.split("[a] INFO    ")[1] for out in capsys.readouterr().out.splitlines()] == ["m1", "m2", "m3", "m4"]


def test_a_create_that_fails_midway_leaves_no_multipart_upload(http, aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.uploads import service as uploads

    made: list[str] = []
    original = uploads.new_row

    def flaky(owner: str, body: dict[str, Any], **extra: Any) -> Any:
        if body["filename"] == "f3.txt":
            raise RuntimeError("S3 is down")
        row = original(owner, body, **extra)
        made.append(row.file_id)
        return row

    monkeypatch.setattr(uploads, "new_row", flaky)
    items = [_item(f"f{i}.txt", b"abc", "a") for i in range(6)]
    failed = http.http.post("/bulk-uploads", headers=auth("uploader", "bulk-flaky"),
                            body=json.dumps({"name": "flaky", "items": items}))
    assert failed.status_code == 500 and made
    s3 = aws.client("s3")
    for file_id in made:
        assert s3.list_multipart_uploads(Bucket=aws.settings.media_bucket,
                                         Prefix=f"uploads/{file_id}").get("Uploads", []) == []
    listed = json.loads(http.http.get("/bulk-uploads", headers=auth("uploader", "bulk-flaky")).body)
    assert listed["results"] == []


def test_task_lists_page_newest_first(http, aws, clock) -> None:
    owner = auth("uploader", "bulk-lister")
    made = []
    for n in range(3):
        clock.advance(1)
        made.append(json.loads(http.http.post("/bulk-uploads", headers=owner, body=json.dumps(
            {"name": f"t{n}", "items": [_item("a.txt", b"abc", "a")]})).body)["id"])
    first = json.loads(http.http.get("/bulk-uploads?limit=2", headers=owner).body)
    assert [t["id"] for t in first["results"]] == made[:0:-1] and first["next"]
    from urllib.parse import urlsplit

    link = urlsplit(first["next"])
    rest = json.loads(http.http.get(f"{link.path}?{link.query}", headers=owner).body)
    assert [t["id"] for t in rest["results"]] == made[:1] and rest["next"] is None
    assert http.http.get("/bulk-uploads?cursor=bogus", headers=owner).status_code == 400


def test_a_reader_stops_before_a_line_still_being_written(aws) -> None:
    task = new_id()
    items = [logs._item(task, seq, Line("a", "info", f"m{seq}"), "2026-01-01T00:00:00.000Z") for seq in (1, 2, 4)]
    logs.batch_put(aws.settings.bulk_table, items)  # 3 is "in flight": written after 4 became visible
    page = logs.read(task)
    assert [line["seq"] for line in page["lines"]] == [1, 2] and page["next"] == "2"
    assert logs.read(task, after=2) == {"lines": [], "next": None}
    logs.batch_put(aws.settings.bulk_table, [logs._item(task, 3, Line("a", "info", "m3"), "2026-01-01T00:00:00.000Z")])
    assert [line["seq"] for line in logs.read(task, after=2)["lines"]] == [3, 4]


def test_report_csv_runs_no_formula_even_where_excel_splits_on_semicolons() -> None:
    import re

    from chalicelib.bulk.report import to_csv
    from chalicelib.bulk.service import REPORT_COLUMNS

    names = ['=HYPERLINK("http://evil")', 'a;=HYPERLINK("http://evil")', "b,+1", "c\t@SUM(A1)", "plain; -name.txt"]
    rows = [{c: None for c in REPORT_COLUMNS} | {"index": i, "filename": n} for i, n in enumerate(names)]
    text = to_csv(rows)
    parsed = [r["filename"] for r in csv.DictReader(io.StringIO(text))]
    assert [p.replace("'", "") for p in parsed] == names  # nothing lost but the apostrophes
    for line in text.splitlines()[1:]:  # any locale's separator: no piece starts a formula
        for piece in re.split(r'[,;\t]', line):
            assert not piece.strip('"').startswith(("=", "+", "-", "@")), (line, piece)

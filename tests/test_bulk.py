"""Bulk uploads against the local stack on moto server: a 20-file task over 3 accounts with 2
failures, retry to completion, concurrent log writers, the report, and the 1,000-item worst case.

The files' moves reach the logs as on AWS: the stack's streams pump hands the files stream's
records to ``on_file_change``, which writes the lines of bulk files.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
from typing import Any

import requests

from chalicelib.bulk import logs
from chalicelib.bulk.logs import Line
from chalicelib.ids import new_id
from tests.helpers import Api, upload_parts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _lines_once(api: Api, task_id: str, done: Any, timeout: float = 30, **query: Any) -> list[str]:
    """The messages of the task's lines (filtered by ``query``) once ``done(messages)`` holds: the
    stack's streams pump writes them from the files stream a moment after each move."""
    deadline = time.monotonic() + timeout
    while True:
        messages = [line["message"] for line in _all_lines(api, task_id, **query)]
        if done(messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.3)


def _wait_settled(api: Api, task_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = api.get(f"/bulk-uploads/{task_id}", role="uploader").json()
        if detail["pending"] == 0:
            return detail
        time.sleep(0.3)
    raise AssertionError(f"the task still has pending items: {detail}")


def _upload(api: Api, file_id: str, plan: dict[str, Any], data: bytes) -> None:
    parts = upload_parts(api, {"id": file_id, "upload": plan}, data)
    done = api.post(f"/files/{file_id}/complete", role="uploader", json={"parts": parts})
    assert done.status_code == 200, done.text


def _all_lines(api: Api, task_id: str, **query: Any) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    after = 0
    while True:
        page = api.get(f"/bulk-uploads/{task_id}/logs", role="uploader",
                       params={"after": after, "limit": 7, **query}).json()
        lines += page["lines"]
        if page["next"] is None:
            return lines
        after = int(page["next"])


def test_twenty_files_over_three_accounts_two_fail_then_a_retry_completes_the_task(api: Api, stack: Any) -> None:
    from chalicelib.provider import client, settings

    accounts = ["alpha"] * 7 + ["beta"] * 7 + ["gamma"] * 6
    data = [f"INT. ROOM {i} - DAY\nLine {i}.\n".encode() for i in range(20)]
    items = [{"filename": f"scene-{i:02d}.txt", "size": len(d), "content_type": "text/plain", "kind": "screenplay",
              "account": a} for i, (a, d) in enumerate(zip(accounts, data))]
    items[8]["sha256"] = hashlib.sha256(b"something else").hexdigest()  # beta: declared sha256 wrong
    made = api.post("/bulk-uploads", role="uploader", json={"name": "Twenty", "items": items},
                    headers={"Idempotency-Key": new_id()})
    assert made.status_code == 201, made.text
    task = made.json()
    for i, item in enumerate(task["items"]):
        if i == 10:  # beta: a client that wrote more than it declared (the object bypassed complete)
            client("s3").put_object(Bucket=settings().media_bucket, Key=f"uploads/{item['file_id']}",
                                    Body=data[i] + b"!")
        else:
            _upload(api, item["file_id"], item["upload"], data[i])
    detail = _wait_settled(api, task["id"])
    by_account = {a["account"]: a for a in detail["accounts"]}
    assert detail["status"] == "partially_completed" and (detail["succeeded"], detail["failed"]) == (18, 2)
    assert by_account["alpha"]["status"] == by_account["gamma"]["status"] == "completed"
    assert by_account["beta"]["status"] == "partially_completed" and by_account["beta"]["failed"] == 2
    assert detail["percent"] == 100.0 and detail["completed_at"] and detail["started_at"]

    beta = _lines_once(api, task["id"], lambda ms: sum("stored and verified" in m for m in ms) >= 5
                       and sum(": failed: " in m for m in ms) >= 2, account="beta")
    assert "scene-08.txt: failed: the stored file's sha256 differs from the declared one" in beta
    assert any(m.startswith("scene-10.txt: failed: stored size") for m in beta)
    assert sum("stored and verified" in m for m in beta) == 5
    errors = _all_lines(api, task["id"], level="error")
    assert {line["account"] for line in errors} == {"beta"} and len(errors) == 2
    alpha = _lines_once(api, task["id"], lambda ms: sum("stored and verified" in m for m in ms) >= 7,
                        account="alpha")
    for step in ("created as file", "upload complete", "stored and verified"):  # (then analyzed, rated)
        assert sum(step in m for m in alpha) == 7, (step, alpha)
    assert not any("failed" in m for m in alpha)

    retried = api.post(f"/bulk-uploads/{task['id']}/accounts/beta/retry", role="uploader", json={"items": [
        {"index": 8, "sha256": hashlib.sha256(data[8]).hexdigest()}, {"index": 10, "size": len(data[10]) + 1}]})
    assert retried.status_code == 200, retried.text
    plans = {i["index"]: i for i in retried.json()["items"]}
    assert set(plans) == {8, 10}
    _upload(api, plans[8]["file_id"], plans[8]["upload"], data[8])
    _upload(api, plans[10]["file_id"], plans[10]["upload"], data[10] + b"!")
    detail = _wait_settled(api, task["id"])
    assert detail["status"] == "completed" and detail["succeeded"] == 20 and detail["failed"] == 0

    report = api.get(f"/bulk-uploads/{task['id']}/report", role="uploader", params={"format": "csv"})
    assert report.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert len(rows) == 20 and {r["result"] for r in rows} == {"succeeded"}
    assert rows[8]["attempts"] == "2" and rows[8]["file_id"] == plans[8]["file_id"]
    assert rows[8]["sha256"] == hashlib.sha256(data[8]).hexdigest()
    assert [r["account"] for r in rows] == accounts
    book = api.get(f"/bulk-uploads/{task['id']}/report", role="uploader", params={"format": "xlsx"},
                   headers={"Accept": XLSX})
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet.max_row == 21 and [c.value for c in sheet[11]][:5] == [
        9, "beta", "scene-09.txt", task["items"][9]["file_id"], "succeeded"]


def test_concurrent_log_writers_lose_nothing_and_keep_order(stack: Any) -> None:
    task, writers, each, block = new_id(), 8, 40, 120
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(each):
            logs.append(task, Line(f"w{n}", "info", f"{n}:{i}"))

    def write_blocks() -> None:  # a retry's lines
        logs.append_many(task, [Line("blocks", "info", f"b:{i}") for i in range(block)])

    def follow() -> None:  # a reader paging with `after` while the writers write
        after = 0
        while True:
            finished = done.is_set()
            page = logs.read(task, after=after, limit=50)
            seen.extend(page["lines"])
            if page["lines"]:
                after = page["lines"][-1]["seq"]
            elif finished:
                return

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    threads.append(threading.Thread(target=write_blocks))
    reader = threading.Thread(target=follow)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join()
    stored = logs.read(task, limit=1000)["lines"]
    total = writers * each + block
    assert [line["seq"] for line in stored] == list(range(1, total + 1))
    assert [line["seq"] for line in seen] == list(range(1, total + 1))  # the follower missed none
    for n in range(writers):
        mine = [int(line["message"].split(":")[1]) for line in stored if line["account"] == f"w{n}"]
        assert mine == list(range(each))
    blocks = [line for line in stored if line["account"] == "blocks"]
    assert [int(line["message"][2:]) for line in blocks] == list(range(block))


def test_the_worst_case_task_of_1000_items(api: Api, stack: Any) -> None:
    name = "Сценарий «" + "ж" * 230 + "».txt"  # 255 characters, the longest a filename may be
    items = [{"filename": name, "size": 10 * 1024**3, "content_type": "text/plain", "kind": "screenplay",
              "account": f"канал-{i % 100:03d}-" + "x" * 54, "sha256": "a" * 64} for i in range(1000)]
    started = time.perf_counter()
    made = api.post("/bulk-uploads", role="uploader", json={"name": "Ж" * 200, "items": items})
    seconds = time.perf_counter() - started
    assert made.status_code == 201, made.text[:500]
    body = made.json()
    # Lambda's python3.11 runtime escapes non-ASCII in its result: measure the body that way.
    weight = len(json.dumps(body, ensure_ascii=True))
    assert len(body["items"]) == 1000 and weight < 6_291_456 // 4
    detail = api.get(f"/bulk-uploads/{body['id']}", role="uploader").json()
    assert detail["total"] == 1000 and detail["status"] == "pending" and len(detail["accounts"]) == 100
    assert len(json.dumps(detail, ensure_ascii=True)) < 6_291_456
    report = api.get(f"/bulk-uploads/{body['id']}/report", role="uploader")
    assert len(report.content) < 6_291_456 and report.text.count("\r\n") == 1001
    page = api.get(f"/bulk-uploads/{body['id']}/logs", role="uploader", params={"limit": 1000}).json()
    assert len(page["lines"]) == 1000 and page["next"] == "1000"
    assert len(json.dumps(page, ensure_ascii=True)) < 6_291_456
    cancelled = api.post(f"/bulk-uploads/{body['id']}/accounts/{items[0]['account']}/cancel", role="uploader")
    assert cancelled.status_code == 200 and len(cancelled.json()["cancelled"]) == 10
    print(f"\n1,000-item bulk create: {seconds:.1f} s, response {weight / 1e6:.2f} MB as Lambda escapes it")


def test_another_uploader_cannot_see_a_task(api: Api, stack: Any) -> None:
    from chalicelib.auth import issue_token

    made = api.post("/bulk-uploads", role="uploader", json={"name": "Mine", "items": [
        {"filename": "a.txt", "size": 3, "content_type": "text/plain", "kind": "screenplay", "account": "a"}]})
    other = {"Authorization": f"Bearer {issue_token('bulk-other', 'uploader')}"}
    for path in ("", "/logs", "/report"):
        assert requests.get(f"{api.base}/bulk-uploads/{made.json()['id']}{path}", headers=other,
                            timeout=30).status_code == 404
    listed = requests.get(f"{api.base}/bulk-uploads", headers=other, timeout=30).json()["results"]
    assert made.json()["id"] not in [t["id"] for t in listed]

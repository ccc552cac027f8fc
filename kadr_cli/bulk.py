"""``kadr bulk``: many files for several accounts in one task.

- ``run DIR|MANIFEST.csv --account A``: creates the task (``POST /bulk-uploads`` under an
  Idempotency-Key kept in a small state file), then uploads every item with the same machinery as
  ``kadr upload`` (:meth:`Uploader.adopt` hands each item's file to an ``Uploader``; parts in
  parallel, CRC32 per part, sha256 alongside, resume from the parts S3 holds). Several files go at
  once (``--files-at-once``), one overall progress bar, one line per file. A rerun of the same
  command answers the same task (same key and body): items already stored are skipped, a partial
  upload resumes.
- ``status TASK``, ``logs TASK [--account A] [--level L] [--follow]``,
  ``report TASK --format csv|xlsx [-o FILE]``.

A manifest is a CSV with a header: ``path`` (relative to the manifest's folder) and optionally
``account``, ``kind``, ``target_audience``, ``content_type``; rows without an account take
``--account``.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from kadr_cli.config import resolve
from kadr_cli.errors import ServerError, UploadError
from kadr_cli.fileio import MiB, guess_content_type, guess_kind

MAX_ITEMS = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_parser(commands: Any) -> None:
    top = commands.add_parser("bulk", help="bulk uploads: many files for several accounts in one task",
                              description="Bulk uploads: one task, many files for several accounts.")
    actions = top.add_subparsers(dest="bulk_command", required=True, metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--api", help="API base URL (default: $KADR_API, else .kadr/local.json)")
        p.add_argument("--token", help="bearer token (default: $KADR_TOKEN, else the uploader token in .kadr/local.json)")

    run = actions.add_parser("run", help="upload a folder or a manifest's files as one task (resumable)")
    run.add_argument("source", metavar="DIR|MANIFEST.csv")
    run.add_argument("--account", help="the account of every file (a manifest's rows may name their own)")
    run.add_argument("--name", help="the task's name (default: the folder's or manifest's name)")
    run.add_argument("--kind", help="for every file (default: from each extension)")
    run.add_argument("--target-audience", metavar="AGE", help="0+, 6+, 12+, 16+ or 18+ for every file")
    run.add_argument("--files-at-once", type=int, default=8, help="files uploading at once (default 8)")
    run.add_argument("--concurrency", type=int, default=4, help="parts in flight per file (default 4)")
    run.add_argument("--state-dir", help="resume state (default: $KADR_UPLOAD_STATE_DIR, else ~/.kadr/uploads)")
    bar = run.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show the overall progress bar (default: on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no bar, no per-file lines")
    run.add_argument("--no-wait", dest="wait", action="store_false",
                     help="exit once every file is uploaded, without waiting for the server's verdicts")
    run.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    common(run)
    status = actions.add_parser("status", help="a task's status and counts per account")
    status.add_argument("task")
    status.add_argument("--json", action="store_true")
    common(status)
    logs = actions.add_parser("logs", help="a task's log lines")
    logs.add_argument("task")
    logs.add_argument("--account", help="one account's lines")
    logs.add_argument("--level", choices=("info", "warning", "error"), help="this level and above")
    logs.add_argument("--follow", action="store_true", help="keep printing new lines (Ctrl-C stops)")
    logs.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    common(logs)
    report = actions.add_parser("report", help="the completion report, one row per item")
    report.add_argument("task")
    report.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    report.add_argument("-o", "--output", help="write to FILE (default: stdout for csv, bulk-TASK.xlsx for xlsx)")
    common(report)


# ---------------------------------------------------------------- what to upload

@dataclass(frozen=True)
class Entry:
    path: Path
    account: str
    kind: str
    content_type: str
    target_audience: str | None

    def item(self) -> dict[str, Any]:
        body = {"filename": self.path.name, "size": self.path.stat().st_size, "content_type": self.content_type,
                "kind": self.kind, "account": self.account, "part_checksum": "crc32"}
        if self.target_audience:
            body["target_audience"] = self.target_audience
        return body


def entries(source: Path, account: str | None, kind: str | None, audience: str | None) -> list[Entry]:
    """The files of a folder (recursive, hidden ones left out, sorted) or of a manifest."""
    rows: list[dict[str, str]] = []
    if source.is_dir():
        if not account:
            raise UploadError("a folder needs --account")
        rows = [{"path": str(p)} for p in sorted(source.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)]
    elif source.is_file():
        with source.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if "path" not in (reader.fieldnames or []):
                raise UploadError(f"{source}: a manifest needs a 'path' column (and optionally account, kind, "
                                  f"target_audience, content_type)")
            rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
        for row in rows:
            row["path"] = str((source.parent / row["path"]).resolve()) if row["path"] else ""
    else:
        raise UploadError(f"{source}: no such folder or manifest")
    out = []
    for number, row in enumerate(rows, start=2):
        path = Path(row["path"])
        if not row["path"] or not path.is_file():
            raise UploadError(f"{source}: row {number}: {row['path'] or '(empty path)'} is not a file")
        who = row.get("account") or account
        if not who:
            raise UploadError(f"{path}: no account (give the manifest an account column or pass --account)")
        what = row.get("kind") or kind or guess_kind(path)
        if not what:
            raise UploadError(f"{path.name}: cannot tell the kind from the extension; pass --kind")
        out.append(Entry(path, who, what, row.get("content_type") or guess_content_type(path),
                         row.get("target_audience") or audience))
    if not out:
        raise UploadError(f"{source}: no files")
    if len(out) > MAX_ITEMS:
        raise UploadError(f"{source}: {len(out)} files; a task takes at most {MAX_ITEMS} (split the manifest)")
    return out


# ---------------------------------------------------------------- the run

class _Overall:
    """One bar for all bytes (on a terminal), and a line per file above it."""

    def __init__(self, mode: bool | None, total: int, out: Callable[[str], None]) -> None:
        self.lock = threading.Lock()
        self.out = out
        self.quiet = mode is False
        self.bar = None
        if mode or (mode is None and sys.stderr.isatty() and sys.stdout.isatty()):
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="bulk",
                                file=sys.stderr, dynamic_ncols=True, mininterval=0.2)
            except ImportError:
                self.bar = None

    def advance(self, n: int) -> None:
        if self.bar is not None:
            with self.lock:
                self.bar.update(n)

    def line(self, message: str) -> None:
        if self.quiet:
            return
        with self.lock:
            if self.bar is not None:
                self.bar.write(f"kadr: {message}", file=sys.stderr)
            else:
                self.out(message)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class BulkRun:
    """``BulkRun(api, token).run(entries, name)``: create (or pick up) the task, upload what is
    left, and (with ``wait``) wait for the server's verdicts; returns a summary dict."""

    def __init__(self, api: str, token: str, *, files_at_once: int = 8, concurrency: int = 4,
                 state_dir: str | Path | None = None, progress: bool | None = None,
                 log: Callable[[str], None] | None = None, poll_timeout: float = 300.0) -> None:
        from kadr_cli.api import ApiClient, RetryPolicy, make_session
        from kadr_cli.state import default_dir

        self.base, self.token = api.rstrip("/"), token
        self.files_at_once, self.concurrency = max(1, files_at_once), max(1, concurrency)
        self.state_dir = Path(state_dir) if state_dir else default_dir()
        self.progress = progress
        self.log = log or (lambda message: print(f"kadr: {message}", file=sys.stderr))
        self.poll_timeout = poll_timeout
        self.api = ApiClient(self.base, token, make_session(8), RetryPolicy())

    # The task's Idempotency-Key lives in a state file keyed by what the task uploads, down to each
    # file's size and mtime: the same command over the same files is the same task (a rerun after
    # it finished skips everything), a changed file makes a new one.
    def _task_state(self, items: list[dict[str, Any]], paths: list[Path]) -> Path:
        stats = [p.stat() for p in paths]
        raw = json.dumps([self.base, [str(p.resolve()) for p in paths], [(i["account"], i["kind"]) for i in items],
                          [(st.st_size, st.st_mtime_ns) for st in stats]])
        return self.state_dir / "bulk" / f"{hashlib.sha256(raw.encode()).hexdigest()[:32]}.json"

    def _create(self, name: str, items: list[dict[str, Any]], state_file: Path) -> dict[str, Any]:
        try:
            saved = json.loads(state_file.read_text())
        except (OSError, ValueError):
            saved = {}
        key = saved.get("idempotency_key") or str(uuid.uuid4())
        state_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        state_file.write_text(json.dumps({"idempotency_key": key}))
        body = {"name": name, "items": items}
        try:
            task = self.api.json("POST", "/bulk-uploads", json=body, headers={"Idempotency-Key": key},
                                 ok=(200, 201), also_retry=(409,))
        except ServerError as exc:
            if exc.code != "idempotency_key_reused":
                raise
            self.log("the files changed since the interrupted run; starting a new task")
            key = str(uuid.uuid4())
            state_file.write_text(json.dumps({"idempotency_key": key}))
            task = self.api.json("POST", "/bulk-uploads", json=body, headers={"Idempotency-Key": key},
                                 ok=(200, 201), also_retry=(409,))
        state_file.write_text(json.dumps({"idempotency_key": key, "task_id": task["id"]}))
        return task

    def run(self, todo: list[Entry], name: str, wait: bool = True) -> dict[str, Any]:
        from kadr_cli.uploader import Uploader

        started = time.monotonic()
        items = [e.item() for e in todo]
        state_file = self._task_state(items, [e.path for e in todo])
        task = self._create(name, items, state_file)
        plans = {i["index"]: i for i in task["items"]}
        send = [(e, plans[n]) for n, e in enumerate(todo) if plans[n]["upload"]]
        skipped = len(todo) - len(send)
        overall = _Overall(self.progress, sum(e.path.stat().st_size for e, _ in send), self.log)
        overall.line(f"task {task['id']}: {len(todo)} file(s), {len(send)} to upload"
                     + (f", {skipped} already uploaded" if skipped else ""))
        local = threading.local()
        failures: list[str] = []
        resumed: list[str] = []

        def one(job: tuple[Entry, dict[str, Any]]) -> None:
            entry, plan = job
            if not hasattr(local, "uploader"):
                local.uploader = Uploader(self.base, self.token, concurrency=self.concurrency,
                                          state_dir=self.state_dir, progress=False, log=lambda m: None)
            uploader = local.uploader
            try:
                uploader.adopt(entry.path, {"id": plan["file_id"], "upload": plan["upload"]}, kind=entry.kind,
                               target_audience=entry.target_audience)
                done = uploader.upload(entry.path, kind=entry.kind, target_audience=entry.target_audience,
                                       content_type=entry.content_type, wait=False,
                                       on_part_done=lambda p: overall.advance(p.size))
                verb = "resumed" if done["parts_reused"] else "uploaded"
                if done["parts_reused"]:
                    resumed.append(entry.path.name)
                overall.line(f"[{entry.account}] {entry.path.name}: {verb} ({done['size'] / MiB:.2f} MiB) "
                             f"-> {plan['file_id']}")
            except UploadError as exc:
                failures.append(entry.path.name)
                overall.line(f"[{entry.account}] {entry.path.name}: failed: {exc}")

        try:
            with ThreadPoolExecutor(max_workers=self.files_at_once) as pool:
                list(pool.map(one, send))
        finally:
            overall.close()
        uploaded_at = time.monotonic()
        detail = self._wait(task["id"]) if wait else self.api.json("GET", f"/bulk-uploads/{task['id']}")
        return {"task_id": task["id"], "status": detail["status"], "files": len(todo), "uploaded": len(send),
                "skipped": skipped, "resumed": resumed, "upload_failures": failures, "succeeded": detail["succeeded"],
                "failed": detail["failed"], "pending": detail["pending"],
                "seconds_to_uploaded": round(uploaded_at - started, 3),
                "seconds": round(time.monotonic() - started, 3), "accounts": detail["accounts"]}

    def _wait(self, task_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.poll_timeout
        interval = 0.2
        while True:
            detail = self.api.json("GET", f"/bulk-uploads/{task_id}")
            if detail["pending"] == 0 or time.monotonic() >= deadline:
                return detail
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)


# ---------------------------------------------------------------- the commands

def _status_lines(detail: dict[str, Any]) -> list[str]:
    def counts(d: dict[str, Any]) -> str:
        return (f"{d['status']:<20} {d['percent']:5.1f}%  ok {d['succeeded']}, failed {d['failed']}, "
                f"cancelled {d['cancelled']}, pending {d['pending']} of {d['total']}")

    lines = [f"task {detail['id']} {detail.get('name', '')!r}: {counts(detail)}"]
    lines += [f"  {a['account']:<24} {counts(a)}" for a in detail["accounts"]]
    return lines


def _format_line(line: dict[str, Any]) -> str:
    return f"{line['at']} #{line['seq']:<5} [{line['account'] or '-'}] {line['level'].upper():<7} {line['message']}"


def run(args: argparse.Namespace, session: Any = None) -> int:
    from kadr_cli.main import fail

    try:
        api, token = resolve(args.api, args.token)
        if args.bulk_command == "run":
            return _run(args, api, token)
        from kadr_cli.api import ApiClient, RetryPolicy, make_session

        client = ApiClient(api, token, session or make_session(2), RetryPolicy())
        if args.bulk_command == "status":
            detail = client.json("GET", f"/bulk-uploads/{args.task}")
            print(json.dumps(detail, indent=2) if args.json else "\n".join(_status_lines(detail)))
            return 0
        if args.bulk_command == "logs":
            return _logs(client, args)
        if args.bulk_command == "report":
            return _report(client, args)
    except UploadError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("\nkadr: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return fail(f"unknown bulk action {args.bulk_command}", 2)


def _run(args: argparse.Namespace, api: str, token: str) -> int:
    source = Path(args.source)
    todo = entries(source, args.account, args.kind, args.target_audience)
    runner = BulkRun(api, token, files_at_once=args.files_at_once, concurrency=args.concurrency,
                     state_dir=args.state_dir or os.environ.get("KADR_UPLOAD_STATE_DIR"), progress=args.progress)
    result = runner.run(todo, args.name or source.stem or "bulk upload", wait=args.wait)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"task {result['task_id']}: {result['status']}; {result['succeeded']} of {result['files']} stored, "
              f"{result['failed']} failed, {result['pending']} pending; {result['seconds']:.1f} s")
        for account in result["accounts"]:
            print(f"  {account['account']}: {account['status']} ({account['succeeded']}/{account['total']})")
    return 0 if result["status"] == "completed" or (not args.wait and not result["upload_failures"]) else 1


def _logs(client: Any, args: argparse.Namespace) -> int:
    after = 0
    params = {k: v for k, v in (("account", args.account), ("level", args.level)) if v is not None}
    while True:
        page = client.json("GET", f"/bulk-uploads/{args.task}/logs?" + _query({**params, "after": after,
                                                                               "limit": 500}))
        for line in page["lines"]:
            print(_format_line(line), flush=True)
            after = line["seq"]
        if page["next"] is not None:
            after = int(page["next"])
            continue
        if not args.follow:
            return 0
        time.sleep(args.interval)


def _query(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _report(client: Any, args: argparse.Namespace) -> int:
    accept = XLSX if args.format == "xlsx" else "text/csv"
    response = client.call("GET", f"/bulk-uploads/{args.task}/report?format={args.format}",
                           headers={"Accept": accept})
    output = args.output or (f"bulk-{args.task}.xlsx" if args.format == "xlsx" else None)
    if output is None:
        sys.stdout.write(response.content.decode("utf-8"))
        return 0
    Path(output).write_bytes(response.content)
    print(f"wrote {output} ({len(response.content)} bytes)", file=sys.stderr)
    return 0

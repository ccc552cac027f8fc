"""Soak the local stack: does `make dev` stay flat in memory under hours of traffic?

Starts ``python -m infra.stack`` as its own process (so the RSS measured is the stack's alone) on
free ports, then for ``--minutes`` (or until ``--views`` detail reads are done, whichever is
later) drives:

* detail reads (counted views) of one page of 3 items from ``--clients`` threads, and
* one mixed-traffic thread: page creates, item edits, renames, listings, file creates, file
  listings, and page deletes (so the pages table both grows and shrinks).

Every ``--sample`` seconds it records the stack's RSS (``/proc/<pid>/status``). At the end it waits
for the views queue to drain, checks that every item's count equals the number of successful
detail reads, sends SIGTERM and times the exit, and writes ``bench/results/soak-<label>.json``.

``--max-rss-mib`` stops the run early (and says so) rather than swap the machine.

    python -m bench.soak --minutes 30 --views 3000 --clients 8      # make soak
    python -m bench.soak --minutes 2 --label before --max-rss-mib 3000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, SAMPLE_ITEMS, environment

MIB = 1024 * 1024


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def bound(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StackProcess:
    def __init__(self, state_dir: Path) -> None:
        self.api_port, self.moto_port = free_port(), free_port()
        env = {**os.environ, "KADR_API_PORT": str(self.api_port), "KADR_MOTO_PORT": str(self.moto_port),
               "KADR_WS_PORT": str(free_port()), "KADR_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1"}
        self.log = open(state_dir / "stack.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "infra.stack"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        state = state_dir / "local.json"
        deadline = time.monotonic() + 120
        while not state.exists() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if not state.exists():
            self.proc.kill()
            raise RuntimeError(f"the stack did not start; see {state_dir / 'stack.log'}")
        self.local = json.loads(state.read_text())

    def stop(self, timeout: float = 30) -> dict[str, Any]:
        """SIGTERM; seconds until the process exited and whether its ports are free."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        elapsed = time.monotonic() - started
        self.log.close()
        return {"sigterm_exit_s": round(elapsed, 2), "returncode": self.proc.returncode,
                "ports_free": not bound(self.api_port) and not bound(self.moto_port)}


class Traffic:
    def __init__(self, api: str, tokens: dict[str, str]) -> None:
        import requests

        self.api = api
        self.tokens = tokens
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.views_ok = 0
        self.views_failed = 0
        self.mixed: dict[str, int] = {}
        self.mixed_failed: dict[str, int] = {}
        self.requests = requests

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def reader(self, url: str, budget: list[int]) -> None:
        session = self.requests.Session()
        while not self.stop.is_set():
            with self.lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            try:
                ok = session.get(url, timeout=60).status_code == 200
            except self.requests.RequestException:
                ok = False
            with self.lock:
                if ok:
                    self.views_ok += 1
                else:
                    self.views_failed += 1

    def _note(self, what: str, ok: bool) -> None:
        with self.lock:
            bucket = self.mixed if ok else self.mixed_failed
            bucket[what] = bucket.get(what, 0) + 1

    def mixed_traffic(self, pause: float) -> None:
        """Editors and uploaders at work: creates, edits, listings, deletes, file creates."""
        session = self.requests.Session()
        rng = random.Random(7)
        editor, uploader = self.headers("editor"), self.headers("uploader")
        mine: list[dict[str, Any]] = []
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                op = rng.choice(["create", "edit", "rename", "list", "file", "files", "detail", "delete"])
                if op == "create" or not mine:
                    r = session.post(f"{self.api}/pages", headers=editor, timeout=60,
                                     json={"title": f"Soak page {n}", "items": SAMPLE_ITEMS})
                    ok = r.status_code == 201
                    if ok:
                        mine.append(r.json())
                    self._note("create", ok)
                elif op == "edit":
                    page = rng.choice(mine)
                    item = page["items"][1]
                    r = session.patch(f"{self.api}/pages/{page['id']}/items/{item['id']}", headers=editor,
                                      timeout=60, json={"transcript": f"Edited {n}. " * rng.randint(1, 200)})
                    self._note("edit", r.status_code == 200)
                elif op == "rename":
                    page = rng.choice(mine)
                    r = session.patch(f"{self.api}/pages/{page['id']}", headers=editor, timeout=60,
                                      json={"title": f"Renamed {n}"})
                    self._note("rename", r.status_code == 200)
                elif op == "list":
                    r = session.get(f"{self.api}/pages", params={"limit": 20}, timeout=60)
                    self._note("list", r.status_code == 200)
                elif op == "file":
                    r = session.post(f"{self.api}/files", headers=uploader, timeout=60,
                                     json={"filename": f"take-{n}.mp4", "size": 50 * MIB,
                                           "content_type": "video/mp4", "kind": "video"})
                    self._note("file", r.status_code == 201)
                elif op == "files":
                    r = session.get(f"{self.api}/files", headers=uploader, params={"limit": 20}, timeout=60)
                    self._note("files", r.status_code == 200)
                elif op == "detail":  # counted views of throwaway pages; not checked for exactness
                    r = session.get(f"{self.api}/pages/{rng.choice(mine)['id']}", timeout=60)
                    self._note("detail", r.status_code == 200)
                elif op == "delete" and len(mine) > 20:
                    page = mine.pop(0)
                    r = session.delete(f"{self.api}/pages/{page['id']}", headers=editor, timeout=60)
                    self._note("delete", r.status_code == 204)
            except self.requests.RequestException:
                self._note("error", False)
            self.stop.wait(pause)


def dynamodb(moto: str) -> Any:
    import boto3

    return boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def views_of(ddb: Any, page_id: str) -> dict[str, int]:
    rows = ddb.query(TableName="kadr-dev-pages", KeyConditionExpression="pk = :p AND begins_with(sk, :i)",
                     ExpressionAttributeValues={":p": {"S": f"PAGE#{page_id}"}, ":i": {"S": "ITEM#"}},
                     ConsistentRead=True)["Items"]
    return {r["sk"]["S"][5:]: int(r.get("views", {"N": "0"})["N"]) for r in rows}


def queue_depth(moto: str) -> int:
    import boto3

    sqs = boto3.client("sqs", endpoint_url=moto, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    url = sqs.get_queue_url(QueueName="kadr-dev-views")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(v) for v in attrs.values())


def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="kadr-soak-"))
    stack = StackProcess(state_dir)
    api, moto, tokens = stack.local["api"], stack.local["moto"], stack.local["tokens"]
    pid = stack.proc.pid
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    rss_start = rss_mib(pid) or 0.0
    samples.append((0.0, rss_start))
    say(f"stack pid {pid} up at {api}; RSS {rss_start:.0f} MiB")

    import requests

    page = requests.post(f"{api}/pages", headers={"Authorization": f"Bearer {tokens['editor']}"}, timeout=60,
                         json={"title": "Soak page", "items": SAMPLE_ITEMS}).json()
    traffic = Traffic(api, tokens)
    budget = [args.views if args.minutes == 0 else 10 ** 9]
    readers = [threading.Thread(target=traffic.reader, args=(f"{api}/pages/{page['id']}", budget), daemon=True)
               for _ in range(args.clients)]
    mixed = threading.Thread(target=traffic.mixed_traffic, args=(args.mixed_pause,), daemon=True)
    for t in readers:
        t.start()
    if not args.no_mixed:
        mixed.start()

    aborted = None
    deadline = started + args.minutes * 60
    last_print = 0.0
    while True:
        time.sleep(args.sample)
        now = time.monotonic() - started
        rss = rss_mib(pid)
        if rss is None:
            aborted = "the stack process died"
            break
        samples.append((round(now, 1), round(rss, 1)))
        if now - last_print >= 30:
            last_print = now
            say(f"{now / 60:5.1f} min  RSS {rss:7.0f} MiB  views {traffic.views_ok:7d}  "
                f"mixed {sum(traffic.mixed.values()):6d}")
        if rss > args.max_rss_mib:
            aborted = f"RSS {rss:.0f} MiB passed --max-rss-mib {args.max_rss_mib}"
            break
        if time.monotonic() >= deadline and traffic.views_ok + traffic.views_failed >= args.views:
            break
        if not any(t.is_alive() for t in readers) and args.minutes == 0:
            break
    traffic.stop.set()
    for t in readers + ([mixed] if not args.no_mixed else []):
        t.join(timeout=70)
    load_s = time.monotonic() - started
    say(f"load done after {load_s / 60:.1f} min{'; ABORTED: ' + aborted if aborted else ''}")

    exact = None
    counts: dict[str, int] = {}
    drain_s = None
    if aborted is None or "died" not in aborted:
        t0 = time.monotonic()
        quiet = 0
        while time.monotonic() - t0 < args.drain_timeout:
            quiet = quiet + 1 if queue_depth(moto) == 0 else 0
            if quiet >= 4:
                break
            time.sleep(0.5)
        drain_s = round(time.monotonic() - t0, 1)
        samples.append((round(time.monotonic() - started, 1), round(rss_mib(pid) or 0, 1)))
        counts = views_of(dynamodb(moto), page["id"])
        exact = all(n == traffic.views_ok for n in counts.values()) and len(counts) == len(SAMPLE_ITEMS)
    rss_end = rss_mib(pid) or 0.0
    say(f"drained in {drain_s}s; counts {counts} vs {traffic.views_ok} successful reads: "
        f"{'EXACT' if exact else 'NOT EXACT'}")
    stopped = stack.stop()
    say(f"SIGTERM -> exit in {stopped['sigterm_exit_s']} s (rc {stopped['returncode']}, "
        f"ports free: {stopped['ports_free']})")

    rss_values = [r for _, r in samples]
    tail = [r for t, r in samples if t >= load_s / 2]
    return {
        "label": args.label, "minutes": args.minutes, "clients": args.clients, "environment": environment(),
        "duration_s": round(load_s, 1), "aborted": aborted,
        "views_ok": traffic.views_ok, "views_failed": traffic.views_failed,
        "views_per_s": round(traffic.views_ok / load_s, 1),
        "mixed_ok": traffic.mixed, "mixed_failed": traffic.mixed_failed,
        "counts": counts, "exact": exact, "drain_s": drain_s,
        "rss_mib": {"start": round(rss_start, 1), "peak": round(max(rss_values), 1), "end": round(rss_end, 1),
                    "second_half_min": round(min(tail), 1) if tail else None,
                    "second_half_max": round(max(tail), 1) if tail else None},
        **stopped, "samples": samples, "stack_log": str(state_dir / "stack.log"),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=30, help="traffic duration; 0 = stop after --views reads")
    p.add_argument("--views", type=int, default=3000, help="at least this many detail reads")
    p.add_argument("--clients", type=int, default=8, help="reader threads")
    p.add_argument("--mixed-pause", type=float, default=0.05, help="seconds between mixed-traffic requests")
    p.add_argument("--no-mixed", action="store_true", help="detail reads only")
    p.add_argument("--sample", type=float, default=3, help="seconds between RSS samples")
    p.add_argument("--max-rss-mib", type=float, default=4000, help="abort above this RSS")
    p.add_argument("--drain-timeout", type=float, default=300)
    p.add_argument("--label", default="run")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    def say(message: str) -> None:
        print(f"soak: {message}", flush=True)

    result = run(args, say)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"soak-{args.label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: v for k, v in result.items() if k not in ("samples", "environment", "counts")}
    print(json.dumps(summary, indent=2))
    say(f"wrote {out}")
    if not result["exact"] or result["aborted"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

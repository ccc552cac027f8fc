"""Page detail benchmark: throughput, DynamoDB calls per request, view counting cost, cold start.

One run (``make bench`` = ``python -m bench.pages``):

1. starts the local stack in-process (moto server, API, SQS pump, scheduler) on free ports, page
   cache TTL as configured for the stage (5 s) unless ``--cache-ttl`` says otherwise;
2. creates one page with a video, an audio and a text item over HTTP as the editor;
3. sequential phases: ``--sequential`` uncached requests (the page is dropped from the
   container's cache before each) and as many cached ones; then waits for the views queue;
4. the load phase: ``--requests`` GET /pages/{id} from ``--concurrency`` threads, one
   requests.Session each (each thread opens its connection with one request before the clock
   starts); requests/s and p50/p99 latency;
5. waits for the views queue to drain, checks that every item's ``views`` grew by exactly the
   number of detail reads, and reports the aggregator's writes per view (whole run, and for the
   batches of the load phase alone);
6. the cold-start comparison against a bare Chalice app (bench.cold_start);
7. prints a markdown table and writes bench/results/pages.json.

How things are counted (in this process; the app's code is not changed):
- DynamoDB calls: botocore ``before-call`` hooks on every DynamoDB client the app holds
  (PynamoDB's and the provider's clients), by operation name. A call is attributed to a detail
  request when it happens inside ``store.detail`` on the same thread; whether that request was
  a cache hit is read from ``cache.get``'s result (both are wrapped for the run).
- Aggregator writes: ``before-parameter-build`` / ``after-call`` hooks for TransactWriteItems on
  the same clients; a transaction is the aggregator's when it puts ``VIEW#`` receipts. Its Put
  actions are view receipts, its Update actions counter writes; only transactions that
  succeeded (HTTP 200) count as written. ``views.apply`` is wrapped too, to cross-check with
  the ``Applied`` totals it returns and to record batch sizes.
- The local stack's API server sets TCP_NODELAY (infra.emulators.ApiServer): without it every
  response stalls ~40 ms on delayed ACKs, an artifact of the local gateway rather than of the app.
The app's own output (Powertools logs, EMF metrics, the local server's access log) goes to
bench/results/pages-app.log.
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import requests

from bench import (
    RESULTS,
    create_sample_page,
    environment,
    percentile,
    start_stack,
    stop_all_but_moto,
)

READS = frozenset({"Query", "GetItem", "BatchGetItem", "Scan", "TransactGetItems"})
QUEUE_DEPTH_ATTRS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                     "ApproximateNumberOfMessagesDelayed"]


def dynamodb_clients() -> list[Any]:
    """Every botocore DynamoDB client the app may call through, once each: PynamoDB's (shared by
    all row classes, and by the aggregator where models.dynamodb exists) and the provider's clients."""
    from chalicelib.pages import models
    from chalicelib.provider import client

    found: list[Any] = []
    candidates = [models.PagesTable._get_connection().connection.client, client("dynamodb")]
    if hasattr(models, "dynamodb"):
        candidates.insert(0, models.dynamodb())
    for candidate in candidates:
        if not any(candidate is seen for seen in found):
            found.append(candidate)
    return found


class Probe:
    """DynamoDB/SQS call counting and the wrappers that attribute calls to detail requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.ops: Counter[str] = Counter()              # every DynamoDB call, by operation
        self.requests: Counter[str] = Counter()         # detail calls: "hit" / "miss" / "error"
        self.request_ops: dict[str, Counter[str]] = {"hit": Counter(), "miss": Counter(), "error": Counter()}
        self.tx: Counter[str] = Counter()               # aggregator transactions and their actions
        self.applied: Counter[str] = Counter()          # totals of views.apply's Applied results
        self.sqs_sends = 0
        # per views.apply call: (when, messages, seconds, counter writes, item views)
        self.batches: list[tuple[float, int, float, int, int]] = []
        self._undo: list[Callable[[], None]] = []

    # ------------------------------------------------------------ hooks
    def _on_dynamodb_call(self, model: Any, **_: Any) -> None:
        with self.lock:
            self.ops[model.name] += 1
        if getattr(self.local, "active", False):
            self.local.calls[model.name] += 1

    def _on_tx_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """Note the actions of the aggregator's transactions: those that carry view receipts."""
        items = params.get("TransactItems", [])
        receipts = sum(1 for a in items if "Put" in a
                       and str(a["Put"].get("Item", {}).get("pk", {}).get("S", "")).startswith("VIEW#"))
        if receipts:
            context["bench_tx"] = Counter(next(iter(a)) for a in items)

    def _on_tx_done(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        if "bench_tx" not in context:
            return  # an edit's transaction, not the aggregator's
        actions = context["bench_tx"]
        ok = getattr(http_response, "status_code", 0) == 200
        with self.lock:
            self.tx["attempted"] += 1
            self.tx["attempted_put"] += actions["Put"]
            self.tx["attempted_update"] += actions["Update"]
            if ok:
                self.tx["written"] += 1
                self.tx["written_put"] += actions["Put"]
                self.tx["written_update"] += actions["Update"]
                self.tx["written_other"] += sum(actions.values()) - actions["Put"] - actions["Update"]

    def _on_sqs_send(self, **_: Any) -> None:
        with self.lock:
            self.sqs_sends += 1

    def _register(self, events: Any, name: str, handler: Callable[..., Any]) -> None:
        events.register(name, handler)
        self._undo.append(lambda: events.unregister(name, handler))

    def _patch(self, owner: Any, name: str, replacement: Callable[..., Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, replacement)
        self._undo.append(lambda: setattr(owner, name, original))

    # ------------------------------------------------------------ install
    def install(self) -> None:
        from chalicelib.pages import cache, store, views
        from chalicelib.provider import client

        for ddb in dynamodb_clients():
            self._register(ddb.meta.events, "before-call.dynamodb", self._on_dynamodb_call)
            self._register(ddb.meta.events, "before-parameter-build.dynamodb.TransactWriteItems", self._on_tx_params)
            self._register(ddb.meta.events, "after-call.dynamodb.TransactWriteItems", self._on_tx_done)
        self._register(client("sqs").meta.events, "before-call.sqs.SendMessage", self._on_sqs_send)

        local, probe = self.local, self
        original_get, original_detail, original_apply = cache.get, store.detail, views.apply

        def get(page_id: str, *args: Any) -> Any:
            value = original_get(page_id, *args)
            if getattr(local, "active", False) and local.hit is None:
                local.hit = value is not None
            return value

        def detail(page_id: str, *args: Any) -> Any:
            local.active, local.hit, local.calls = True, None, Counter()
            kind = "error"
            try:
                result = original_detail(page_id, *args)
                kind = "hit" if local.hit else "miss"
                return result
            finally:
                local.active = False
                with probe.lock:
                    probe.requests[kind] += 1
                    probe.request_ops[kind].update(local.calls)

        def apply(bodies: Any) -> Any:
            bodies = list(bodies)
            started = time.perf_counter()
            applied = original_apply(bodies)
            took = time.perf_counter() - started
            with probe.lock:
                probe.batches.append((time.monotonic(), len(bodies), took, applied.counter_writes,
                                      applied.item_views))
                for name in ("views", "duplicates", "counter_writes", "item_views", "malformed", "transactions"):
                    probe.applied[name] += getattr(applied, name)
                probe.applied["batches"] += 1
            return applied

        # app.py and store.py look these up on the modules at call time.
        self._patch(cache, "get", get)
        self._patch(store, "detail", detail)
        self._patch(views, "apply", apply)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"ops": Counter(self.ops), "requests": Counter(self.requests),
                    "request_ops": {k: Counter(v) for k, v in self.request_ops.items()},
                    "sqs_sends": self.sqs_sends}


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {"ops": after["ops"] - before["ops"], "requests": after["requests"] - before["requests"],
            "request_ops": {k: after["request_ops"][k] - before["request_ops"][k] for k in after["request_ops"]},
            "sqs_sends": after["sqs_sends"] - before["sqs_sends"]}


def batch_summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    return {"count": len(values), "mean": statistics.fmean(values), "p50": percentile(values, 50),
            "max": max(values), "min": min(values)}


def reads(ops: Counter[str]) -> int:
    return sum(n for op, n in ops.items() if op in READS)


def per(n: float, d: float) -> float | None:
    return n / d if d else None


# ---------------------------------------------------------------- phases

def latency_stats(latencies: list[float], elapsed: float | None = None) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    out = {"requests": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
           "mean_ms": statistics.fmean(ms) if ms else None, "max_ms": max(ms) if ms else None}
    if elapsed is not None:
        out["elapsed_s"] = elapsed
        out["requests_per_s"] = len(ms) / elapsed if elapsed else None
    return out


def sequential(url: str, n: int, before_each: Callable[[], None] | None = None) -> tuple[list[float], Counter[int]]:
    session, latencies, statuses = requests.Session(), [], Counter()
    for _ in range(n):
        if before_each:
            before_each()
        started = time.perf_counter()
        response = session.get(url, timeout=60)
        latencies.append(time.perf_counter() - started)
        statuses[response.status_code] += 1
    session.close()
    return latencies, statuses


def concurrent(url: str, n: int, clients: int, on_start: Callable[[], None]) -> tuple[list[float], Counter[int], float, Counter[int]]:
    """n GETs from ``clients`` threads. Each thread first opens its connection with one request
    (returned separately as warm-up statuses); ``on_start`` runs once all are connected."""
    counter = itertools.count()
    barrier = threading.Barrier(clients + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    warmup: Counter[int] = Counter()
    errors: list[BaseException] = []

    def worker() -> None:
        session = requests.Session()
        try:
            status = session.get(url, timeout=60).status_code
            with lock:
                warmup[status] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        barrier.wait()
        mine: list[float] = []
        mine_status: Counter[int] = Counter()
        try:
            while next(counter) < n:
                started = time.perf_counter()
                response = session.get(url, timeout=60)
                mine.append(time.perf_counter() - started)
                mine_status[response.status_code] += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            session.close()
            with lock:
                latencies.extend(mine)
                statuses.update(mine_status)

    threads = [threading.Thread(target=worker, name=f"bench-client-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    on_start()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} client errors, first: {errors[0]!r}")
    return latencies, statuses, elapsed, warmup


def queue_depth() -> int:
    from chalicelib.provider import client, current, settings

    attrs = client("sqs").get_queue_attributes(QueueUrl=current().queue_url(settings().views_queue),
                                               AttributeNames=QUEUE_DEPTH_ATTRS)["Attributes"]
    return sum(int(v) for v in attrs.values())


def drain(timeout: float, quiet_polls: int = 4, interval: float = 0.5) -> float:
    """Seconds until the views queue is empty for ``quiet_polls`` polls in a row."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < timeout:
        quiet = quiet + 1 if queue_depth() == 0 else 0
        if quiet >= quiet_polls:
            return time.monotonic() - started
        time.sleep(interval)
    raise RuntimeError(f"the views queue did not drain within {timeout:.0f} s (depth {queue_depth()})")


# ---------------------------------------------------------------- report

def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "MISS")


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def table(results: dict[str, Any]) -> str:
    load, unc, cached = results["load"], results["uncached_sequential"], results["cached_sequential"]
    ddb, views = results["dynamodb"], results["views"]
    lp = views["load_phase"]
    rows = [
        (f"Load: GET /pages/{{id}}, {load['requests']} req, {results['config']['concurrency']} clients",
         f"{fmt(load['requests_per_s'], '.0f')} req/s", "", ""),
        ("Load latency p50 / p99", f"{fmt(load['p50_ms'], '.1f')} / {fmt(load['p99_ms'], '.1f')} ms", "", ""),
        (f"Sequential uncached latency p50 / p99 ({unc['requests']} req)",
         f"{fmt(unc['p50_ms'], '.1f')} / {fmt(unc['p99_ms'], '.1f')} ms", "", ""),
        (f"Sequential cached latency p50 / p99 ({cached['requests']} req)",
         f"{fmt(cached['p50_ms'], '.1f')} / {fmt(cached['p99_ms'], '.1f')} ms", "", ""),
        ("DynamoDB reads per uncached detail request", fmt(ddb["reads_per_uncached_request"]), "1",
         verdict(ddb["reads_per_uncached_request"] == 1)),
        ("DynamoDB reads per cached detail request", fmt(ddb["reads_per_cached_request"]), "0",
         verdict(ddb["reads_per_cached_request"] == 0)),
        ("DynamoDB calls of any kind per detail request (all phases)", fmt(ddb["calls_per_request"], ".3f"),
         "", ""),
        ("Load phase: cache misses / reads per request",
         f"{ddb['load_misses']} of {ddb['load_requests']} / {fmt(ddb['load_reads_per_request'], '.3f')}", "", ""),
        ("SQS messages sent per detail request", fmt(results["sqs_sends_per_request"]), "1", ""),
        ("Views exact after drain (each item +N)",
         f"{views['expected_per_item']} expected, got {sorted(set(views['per_item'].values()))}", "exact",
         verdict(views["exact"])),
        ("Counter writes per item-view, whole run", fmt(views["counter_writes_per_item_view"], ".4f"), "<= 0.1",
         verdict(views["counter_writes_per_item_view"] is not None and views["counter_writes_per_item_view"] <= 0.1)),
        ("Counter writes per item-view, load phase only", fmt(lp["counter_writes_per_item_view"], ".4f"), "<= 0.1",
         verdict(lp["counter_writes_per_item_view"] is not None and lp["counter_writes_per_item_view"] <= 0.1)),
        ("Receipt writes per view", fmt(views["receipt_writes_per_view"], ".3f"), "", ""),
        ("Aggregator: views per transaction / transactions / failed attempts",
         f"{fmt(views['views_per_transaction'], '.1f')} / {views['transactions']} / "
         f"{views['transactions_attempted'] - views['transactions']}", "", ""),
        ("SQS pump batches, whole run: count / messages mean, p50, max / views.apply p50 ms",
         f"{views['batch_messages'].get('count', 0)} / {fmt(views['batch_messages'].get('mean'), '.1f')}, "
         f"{fmt(views['batch_messages'].get('p50'), '.0f')}, {fmt(views['batch_messages'].get('max'), '.0f')} / "
         f"{fmt(views['batch_apply_ms'].get('p50'), '.0f')}", "", ""),
        ("SQS pump batches, load phase: count / messages mean, p50",
         f"{lp['batches']} / {fmt(lp['messages_per_batch'].get('mean'), '.1f')}, "
         f"{fmt(lp['messages_per_batch'].get('p50'), '.0f')}", "", ""),
        ("Queue drain after the load", f"{views['drain_s']:.1f} s", "", ""),
    ]
    if "cold_start" in results:
        from bench import cold_start

        rows += cold_start.rows(results["cold_start"])
    lines = ["| Metric | Value | Target | |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def run(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    env: dict[str, str] = {}
    if args.cache_ttl is not None:
        env["KADR_PAGE_CACHE_TTL"] = str(args.cache_ttl)
    if args.log_level:
        env["POWERTOOLS_LOG_LEVEL"] = args.log_level
    results: dict[str, Any] = {"environment": environment()}
    with tempfile.TemporaryDirectory(prefix="kadr-bench-") as tmp:
        say("starting the local stack ...")
        stack = start_stack(Path(tmp), env, pump_workers=args.pump_workers)
        probe = Probe()
        try:
            from chalicelib.pages import cache, store
            from chalicelib.provider import settings

            page = create_sample_page(stack)
            page_id = page["id"]
            url = f"{stack.api_url}/pages/{page_id}"
            probe.install()
            results["config"] = {"requests": args.requests, "concurrency": args.concurrency,
                                 "sequential": args.sequential, "page_cache_ttl_s": settings().page_cache_ttl,
                                 "pump_workers": args.pump_workers, "items_on_page": len(page["items"])}
            statuses: Counter[int] = Counter()

            say(f"uncached: {args.sequential} sequential requests, page dropped from the cache before each ...")
            before = probe.snapshot()
            lat, st = sequential(url, args.sequential, before_each=lambda: cache.forget(page_id))
            statuses += st
            unc_delta = delta(before, probe.snapshot())
            results["uncached_sequential"] = latency_stats(lat)

            say(f"cached: {args.sequential} sequential requests ...")
            statuses += sequential(url, 1)[1]  # fill the cache (counted in the view totals below)
            before = probe.snapshot()
            lat, st = sequential(url, args.sequential)
            statuses += st
            cached_delta = delta(before, probe.snapshot())
            results["cached_sequential"] = latency_stats(lat)

            drain(args.drain_timeout)  # so the load phase's batches hold only its own views
            load_mark = time.monotonic()
            say(f"load: {args.requests} requests from {args.concurrency} clients ...")
            marks: dict[str, Any] = {}
            lat, st, elapsed, warm = concurrent(url, args.requests, args.concurrency,
                                                on_start=lambda: marks.update(before=probe.snapshot()))
            load_delta = delta(marks["before"], probe.snapshot())
            statuses += st
            statuses += warm
            results["load"] = latency_stats(lat, elapsed)
            results["load"]["statuses"] = {str(k): v for k, v in st.items()}

            say("waiting for the views queue to drain ...")
            drain_s = drain(args.drain_timeout)
            total = probe.snapshot()
            in_load = [b for b in probe.batches if b[0] >= load_mark]
            load_batches = {"batches": len(in_load), "messages": sum(b[1] for b in in_load),
                            "counter_writes": sum(b[3] for b in in_load),
                            "item_views": sum(b[4] for b in in_load),
                            "messages_per_batch": batch_summary([b[1] for b in in_load])}
            load_batches["counter_writes_per_item_view"] = per(load_batches["counter_writes"],
                                                               load_batches["item_views"])
            _, rows = store.load(page_id)
            per_item = {row.item_id: int(row.views or 0) for row in rows}

            detail_ok = total["requests"]["hit"] + total["requests"]["miss"]
            item_views = detail_ok * len(per_item)
            tx = probe.tx
            hit_reads = reads(total["request_ops"]["hit"])
            miss_reads = reads(total["request_ops"]["miss"])
            results["http_statuses"] = {str(k): v for k, v in statuses.items()}
            results["dynamodb"] = {
                "reads_per_uncached_request": per(reads(unc_delta["request_ops"]["miss"]),
                                                  unc_delta["requests"]["miss"]),
                "reads_per_cached_request": per(hit_reads, total["requests"]["hit"]),
                "reads_per_miss_all_phases": per(miss_reads, total["requests"]["miss"]),
                "calls_per_request": per(sum(total["request_ops"]["hit"].values())
                                         + sum(total["request_ops"]["miss"].values()), detail_ok),
                "uncached_phase": {"requests": unc_delta["requests"], "request_ops": unc_delta["request_ops"]["miss"],
                                   "all_ops": unc_delta["ops"]},
                "cached_phase": {"requests": cached_delta["requests"], "request_ops": cached_delta["request_ops"],
                                 "all_ops": cached_delta["ops"]},
                "load_requests": sum(load_delta["requests"].values()),
                "load_misses": load_delta["requests"]["miss"],
                "load_reads_per_request": per(reads(load_delta["request_ops"]["hit"])
                                              + reads(load_delta["request_ops"]["miss"]),
                                              sum(load_delta["requests"].values())),
                "request_ops_by_kind": total["request_ops"],
                "all_ops": total["ops"],
                "detail_requests": total["requests"],
            }
            results["sqs_sends_per_request"] = per(total["sqs_sends"], detail_ok)
            results["views"] = {
                "expected_per_item": detail_ok,
                "http_200_detail_responses": statuses[200],
                "per_item": per_item,
                "exact": bool(per_item) and all(v == detail_ok for v in per_item.values()),
                "counter_writes": tx["written_update"],
                "receipt_writes": tx["written_put"],
                "counter_writes_per_item_view": per(tx["written_update"], item_views),
                "receipt_writes_per_view": per(tx["written_put"], detail_ok),
                "transactions": tx["written"],
                "transactions_attempted": tx["attempted"],
                "views_per_transaction": per(tx["written_put"], tx["written"]),
                "applied": dict(probe.applied),
                "pump_batches": stack.component("sqs:count_views").batches,
                "batch_messages": batch_summary([b[1] for b in probe.batches]),
                "batch_apply_ms": batch_summary([b[2] * 1000 for b in probe.batches]),
                "load_phase": load_batches,
                "pump_failures": stack.component("sqs:count_views").failures,
                "drain_s": drain_s,
            }
            applied = probe.applied
            results["views"]["applied_matches_hooks"] = (applied["counter_writes"] == tx["written_update"]
                                                        and applied["views"] == tx["written_put"]
                                                        and applied["item_views"] == item_views)
            probe.uninstall()

            if args.cold_runs > 0:
                import os

                from bench import cold_start

                say(f"cold start: {args.cold_runs} runs each of Kadr and the bare app ...")
                stop_all_but_moto(stack)
                results["cold_start"] = cold_start.measure(dict(os.environ), page_id, args.cold_runs, log=say)
        finally:
            probe.uninstall()
            stack.stop()
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", "-n", type=int, default=1000, help="detail requests in the load phase")
    parser.add_argument("--concurrency", "-c", type=int, default=50, help="concurrent clients (threads)")
    parser.add_argument("--sequential", type=int, default=100, help="requests in each sequential phase")
    parser.add_argument("--cache-ttl", type=int, default=None, help="KADR_PAGE_CACHE_TTL (default: the stage's, 5)")
    parser.add_argument("--log-level", default=None, help="POWERTOOLS_LOG_LEVEL (default: the stage's)")
    parser.add_argument("--pump-workers", type=int, default=2, help="SQS pump threads (default 2)")
    parser.add_argument("--cold-runs", type=int, default=15, help="cold starts of each app; 0 skips them")
    parser.add_argument("--drain-timeout", type=float, default=300, help="seconds to wait for the queue")
    parser.add_argument("--out", type=Path, default=RESULTS / "pages.json", help="JSON results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    real_stdout = sys.stdout

    def say(message: str) -> None:
        print(message, file=real_stdout, flush=True)

    app_log = args.out.with_name(args.out.stem + "-app.log")
    real_stderr = sys.stderr
    with app_log.open("w") as log:
        # The app's Powertools logs and EMF metrics (stdout) and the local server's access log and
        # tracebacks (stderr) go to the log file, out of the report.
        sys.stdout = sys.stderr = log
        try:
            results = run(args, say)
        except BaseException:
            sys.stdout, sys.stderr = real_stdout, real_stderr
            print(f"bench failed; the app's output is in {app_log}", file=real_stderr)
            raise
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print("\n" + table(results))
    if "cold_start" in results:
        from bench import cold_start

        print("\n" + cold_start.format_imports(results["cold_start"]))
    print(f"\nJSON: {args.out}   app output: {app_log}")


if __name__ == "__main__":
    main()

"""Cold start: a fresh interpreter imports the app and serves ONE page detail, Kadr vs a bare app.

Each run is a new ``python`` process running a small driver. The driver reads
``time.perf_counter()`` on its first line, imports the app, builds an API Gateway proxy event for
``GET /pages/{page_id}`` and calls the Chalice app object as the Lambda handler would; the time to
the response is the cold start (interpreter start-up itself is excluded, and reported apart as
the process wall time). Runs alternate Kadr / bare so drift hits both alike; the first run of each
is a discarded warm-up (bytecode caches, page cache of the files).

``python -m bench.cold_start [--runs 15]`` starts its own local stack; ``bench.pages`` calls
``measure`` on the stack it already runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import (
    RESULTS,
    ROOT,
    create_sample_page,
    environment,
    start_stack,
    stop_all_but_moto,
)

BENCH_DIR = Path(__file__).resolve().parent

DRIVER = r'''
import time
_t0 = time.perf_counter()
import importlib, json, os, sys

module = importlib.import_module(os.environ["BENCH_MODULE"])
_t1 = time.perf_counter()


class Context:
    function_name = "bench-cold-start"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-cold-start"
    aws_request_id = "00000000000000000000000000000001"
    log_group_name = "/aws/lambda/bench-cold-start"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 30000


page_id = os.environ["BENCH_PAGE_ID"]
event = {
    "resource": "/pages/{page_id}", "path": "/pages/" + page_id, "httpMethod": "GET",
    "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "accept": "application/json"},
    "multiValueHeaders": {"host": ["abc123.execute-api.us-east-1.amazonaws.com"], "accept": ["application/json"]},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": {"page_id": page_id}, "stageVariables": None,
    "requestContext": {"resourcePath": "/pages/{page_id}", "httpMethod": "GET", "path": "/api/pages/" + page_id,
                       "stage": "api", "requestId": "bench-request", "identity": {"sourceIp": "127.0.0.1"}},
    "body": None, "isBase64Encoded": False,
}
response = module.app(event, Context())
_t2 = time.perf_counter()
body = json.loads(response["body"]) if response.get("body") else {}
sys.stdout.write("BENCH_RESULT " + json.dumps({
    "ms": (_t2 - _t0) * 1000, "import_ms": (_t1 - _t0) * 1000, "request_ms": (_t2 - _t1) * 1000,
    "status": response["statusCode"], "items": len(body.get("items", [])) if isinstance(body, dict) else None,
}) + "\n")
sys.stdout.flush()
'''

APPS = {
    # name: (module, cwd, rows the detail should return)
    "kadr": ("app", ROOT, 3),        # rendered items
    "bare": ("bare_app", BENCH_DIR, 4),  # raw rows: META + 3 items
}


def run_once(name: str, env: dict[str, str], page_id: str, importtime: bool = False) -> dict[str, Any]:
    module, cwd, rows = APPS[name]
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", DRIVER]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**env, "BENCH_MODULE": module, "BENCH_PAGE_ID": page_id})
    wall = (time.perf_counter() - started) * 1000
    line = next((l for l in proc.stdout.splitlines() if l.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"cold start of {name} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}"
                           f"\n{proc.stderr[-4000:]}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    if result["status"] != 200 or result["items"] != rows:
        raise RuntimeError(f"cold start of {name}: unexpected response {result}\n{proc.stdout[-2000:]}")
    result["wall_ms"] = wall
    if importtime:
        result["imports"] = parse_importtime(proc.stderr)
    return result


def parse_importtime(stderr: str) -> list[dict[str, Any]]:
    """``-X importtime`` lines as (module, depth, self_ms, cumulative_ms), in import order."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append({"module": name.strip(), "depth": depth, "self_ms": int(self_us) / 1000,
                     "cumulative_ms": int(cumulative_us) / 1000})
    return rows


def top_imports(rows: list[dict[str, Any]], max_depth: int = 1, limit: int = 12) -> list[dict[str, Any]]:
    """The heaviest imports near the top of the tree (depth 0 are the driver's own and lazy imports)."""
    near_top = [r for r in rows if r["depth"] <= max_depth]
    return sorted(near_top, key=lambda r: r["cumulative_ms"], reverse=True)[:limit]


def measure(env: dict[str, str], page_id: str, runs: int = 15, log=print) -> dict[str, Any]:
    """Alternating cold starts of Kadr and the bare app; medians, ratio and an import profile."""
    env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
    for name in APPS:  # warm-up: bytecode compiled, files in the page cache
        run_once(name, env, page_id)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in APPS}
    for i in range(runs):
        order = list(APPS) if i % 2 == 0 else list(reversed(APPS))
        for name in order:
            samples[name].append(run_once(name, env, page_id))
        log(f"  cold start run {i + 1}/{runs}: kadr {samples['kadr'][-1]['ms']:.0f} ms, "
            f"bare {samples['bare'][-1]['ms']:.0f} ms")

    def med(name: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[name])

    profile = {name: top_imports(run_once(name, env, page_id, importtime=True)["imports"]) for name in APPS}
    result: dict[str, Any] = {"runs": runs}
    for name in APPS:
        result[name] = {"median_ms": med(name, "ms"), "median_import_ms": med(name, "import_ms"),
                        "median_request_ms": med(name, "request_ms"), "median_process_wall_ms": med(name, "wall_ms"),
                        "min_ms": min(s["ms"] for s in samples[name]), "max_ms": max(s["ms"] for s in samples[name]),
                        "samples_ms": [round(s["ms"], 1) for s in samples[name]]}
    result["ratio"] = result["kadr"]["median_ms"] / result["bare"]["median_ms"]
    result["ratio_process_wall"] = result["kadr"]["median_process_wall_ms"] / result["bare"]["median_process_wall_ms"]
    result["top_imports"] = profile
    return result


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Markdown table rows: metric, value, target, verdict."""
    k, b = result["kadr"], result["bare"]
    return [
        ("Cold start, Kadr (median, import + 1 detail)", f"{k['median_ms']:.0f} ms "
         f"(import {k['median_import_ms']:.0f} + request {k['median_request_ms']:.0f})", "", ""),
        ("Cold start, bare app (median)", f"{b['median_ms']:.0f} ms "
         f"(import {b['median_import_ms']:.0f} + request {b['median_request_ms']:.0f})", "", ""),
        ("Cold start ratio Kadr / bare", f"{result['ratio']:.2f}", "<= 1.3", verdict(result["ratio"] <= 1.3)),
        ("Process wall incl. interpreter start, Kadr / bare",
         f"{k['median_process_wall_ms']:.0f} / {b['median_process_wall_ms']:.0f} ms "
         f"(ratio {result['ratio_process_wall']:.2f})", "", ""),
    ]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def format_imports(result: dict[str, Any], limit: int = 8) -> str:
    lines = []
    for name, imports in result["top_imports"].items():
        lines.append(f"Heaviest imports, {name} (cumulative ms, depth <= 1, lazy imports at depth 0):")
        lines += [f"  {r['cumulative_ms']:8.1f}  {'  ' * r['depth']}{r['module']}" for r in imports[:limit]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold starts of each app (default 15)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kadr-bench-") as tmp:
        stack = start_stack(Path(tmp))
        try:
            page = create_sample_page(stack)
            stop_all_but_moto(stack)
            result = measure(dict(os.environ), page["id"], args.runs)
        finally:
            stack.stop()
    print("\n| Metric | Value | Target | |\n|---|---|---|---|")
    for row in rows(result):
        print("| " + " | ".join(row) + " |")
    print("\n" + format_imports(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_start.json").write_text(json.dumps({"environment": environment(), **result}, indent=2))


if __name__ == "__main__":
    main()

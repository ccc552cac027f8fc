"""A 300-page screenplay end to end on the local stack: upload → processing → ready → db_ready,
then the report (JSON and xlsx). Time per stage, as a client polling the API sees it.

``python -m bench.analyze_e2e [--kb 600] [--runs 2]`` starts its own stack (moto server, API,
SQS pumps), loads the default catalog, uploads the generated screenplay of
``bench.analyze_match`` (about 600 KB of Russian text, ~300 pages) as the uploader and polls
``GET /files/{id}`` every 50 ms. The first run is cold (pymorphy3 and lexicons load in the
pump's process), later runs are warm. Results in bench/results/analyze_e2e.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench import RESULTS, environment, start_stack
from bench.analyze_match import screenplay


def script_bytes(kb: int) -> bytes:
    lines = []
    for text, kind, _ in screenplay(kb):
        if kind in ("heading", "character"):
            lines.append("")
        lines.append(text if kind != "dialogue" else "    " + text)
    return "\n".join(lines).encode()


def run(api: str, token: str, data: bytes) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    stages: dict[str, float] = {}
    started = time.perf_counter()
    file = requests.post(f"{api}/files", headers=headers, timeout=60, json={
        "filename": "bench.txt", "size": len(data), "content_type": "text/plain", "kind": "screenplay",
        "target_audience": "12+"}).json()
    plan = file["upload"]
    numbers = list(range(1, plan["part_count"] + 1))
    signed = requests.post(f"{api}/files/{file['id']}/parts", headers=headers, timeout=60,
                           json={"part_numbers": numbers}).json()["parts"]
    parts = []
    for part in signed:
        start = (part["part_number"] - 1) * plan["part_size"]
        put = requests.put(part["url"], data=data[start:start + plan["part_size"]], headers=part["headers"], timeout=60)
        parts.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
    requests.post(f"{api}/files/{file['id']}/complete", headers=headers, json={"parts": parts}, timeout=60)
    stages["upload"] = time.perf_counter() - started
    seen = "pending"
    while seen != "db_ready":
        status = requests.get(f"{api}/files/{file['id']}", headers=headers, timeout=60).json()["status"]
        if status == "error":
            raise RuntimeError("the file failed")
        if status != seen:
            for passed in ("processing", "ready", "db_ready"):  # a stage skipped between polls ends here too
                if passed not in stages and ["pending", "processing", "ready", "db_ready"].index(status) >= \
                        ["pending", "processing", "ready", "db_ready"].index(passed):
                    stages[passed] = time.perf_counter() - started
            seen = status
        time.sleep(0.05)
    t = time.perf_counter()
    report = requests.get(f"{api}/files/{file['id']}/report", headers=headers, timeout=60)
    stages["report_json"] = time.perf_counter() - t
    t = time.perf_counter()
    xlsx = requests.get(f"{api}/files/{file['id']}/report?format=xlsx", timeout=120,
                        headers={**headers, "Accept": "*/*"})
    stages["report_xlsx"] = time.perf_counter() - t
    body = report.json()
    return {"stages_s": {k: round(v, 2) for k, v in stages.items()},
            "analysis_s": round(stages["db_ready"] - stages["processing"], 2),
            "findings": body["counts"]["findings"], "scenes_with_findings": body["counts"]["scenes"],
            "rating": body["rating"], "report_bytes": len(report.content), "xlsx_bytes": len(xlsx.content)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=600)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    stack = start_stack(Path(tempfile.mkdtemp(prefix="kadr-bench-analyze-")))
    try:
        from chalicelib.catalog import service as catalog
        from infra.stack import DEFAULT_CATALOG

        catalog.import_workbook(DEFAULT_CATALOG.read_bytes())
        data = script_bytes(args.kb)
        lines = data.count(b"\n") + 1
        print(f"screenplay: {len(data) / 1024:.0f} KB, {lines} lines", flush=True)
        runs = []
        for n in range(args.runs):
            result = run(stack.api_url, stack.tokens["uploader"], data)
            result["run"] = "cold" if n == 0 else "warm"
            runs.append(result)
            print(json.dumps(result), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "analyze_e2e.json").write_text(json.dumps(
            {"environment": environment(), "kb": len(data) // 1024, "runs": runs}, indent=2))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

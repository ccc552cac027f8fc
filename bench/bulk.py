"""Bulk upload benchmark: ``kadr bulk run`` against the same files sent one ``kadr upload`` at a time.

``python -m bench.bulk [--files 200] [--accounts 5]``, one run:

1. starts the local stack in-process (moto server, API, SQS pump) on free ports and writes
   ``--files`` small screenplays (2-20 KiB of text) in a temporary folder with a manifest that
   spreads them over ``--accounts`` accounts;
2. (a) ``kadr bulk run MANIFEST.csv --json`` as a subprocess: wall time from process start to exit,
   which includes waiting until the server has verified every file (the task is ``completed``);
3. (b) ``kadr upload FILE --json`` once per file, one after the other, each a subprocess (what a
   person with a shell loop would do): the summed wall time; each waits for its server verdict;
4. (c) the same as (b) in one process (``Uploader.upload`` per file, sequentially): what (b) costs
   without a Python start per file;
5. the worst case of the API: one ``POST /bulk-uploads`` of 1,000 items (255-character Cyrillic
   names, 100 accounts): its time and response size, then ``GET /bulk-uploads/{id}`` and the CSV
   report of that task;
6. prints a markdown table and writes bench/results/bulk.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, start_stack

KADR = ROOT / ".venv" / "bin" / "kadr"


def write_files(folder: Path, count: int, accounts: int) -> Path:
    rng = random.Random(7)
    rows = []
    for i in range(count):
        path = folder / f"scene-{i:04d}.txt"
        path.write_text(f"INT. ROOM {i} - DAY\n" + "Слова героя. " * rng.randint(150, 1500), encoding="utf-8")
        rows.append({"path": path.name, "account": f"account-{i % accounts}"})
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["path", "account"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {done.stderr[-2000:]}")
    return seconds, done.stdout


def worst_case(stack: Any) -> dict[str, Any]:
    import requests

    headers = {"Authorization": f"Bearer {stack.tokens['uploader']}"}
    name = "Сценарий «" + "ж" * 230 + "».txt"
    items = [{"filename": name, "size": 10 * 1024**3, "content_type": "text/plain", "kind": "screenplay",
              "account": f"канал-{i % 100:03d}", "sha256": "a" * 64} for i in range(1000)]
    start = time.perf_counter()
    made = requests.post(f"{stack.api_url}/bulk-uploads", json={"name": "worst case", "items": items},
                         headers=headers, timeout=120)
    create = time.perf_counter() - start
    made.raise_for_status()
    task = made.json()
    start = time.perf_counter()
    requests.get(f"{stack.api_url}/bulk-uploads/{task['id']}", headers=headers, timeout=120).raise_for_status()
    detail = time.perf_counter() - start
    start = time.perf_counter()
    report = requests.get(f"{stack.api_url}/bulk-uploads/{task['id']}/report", headers=headers, timeout=120)
    report_s = time.perf_counter() - start
    return {"create_s": round(create, 2), "response_mb_escaped": round(len(json.dumps(task)) / 1e6, 3),
            "detail_s": round(detail, 2), "report_s": round(report_s, 2),
            "report_mb": round(len(report.content) / 1e6, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kadr-bench-bulk-") as tmp:
        root = Path(tmp)
        stack = start_stack(root / "stack")
        try:
            folder = root / "files"
            folder.mkdir()
            manifest = write_files(folder, args.files, args.accounts)
            total = sum(p.stat().st_size for p in folder.glob("*.txt"))
            env = {**os.environ, "KADR_API": stack.api_url, "KADR_TOKEN": stack.tokens["uploader"],
                   "KADR_UPLOAD_STATE_DIR": str(root / "state"), "POWERTOOLS_LOG_LEVEL": "WARNING"}
            bulk_s, out = timed([str(KADR), "bulk", "run", str(manifest), "--json", "--no-progress"], env)
            summary = json.loads(out)
            assert summary["status"] == "completed", summary
            single_s = 0.0
            for path in sorted(folder.glob("*.txt")):
                seconds, _ = timed([str(KADR), "upload", str(path), "--json", "--no-progress"], env)
                single_s += seconds
            from kadr_cli.uploader import Uploader

            uploader = Uploader(stack.api_url, stack.tokens["uploader"], state_dir=root / "state2", progress=False)
            start = time.perf_counter()
            for path in sorted(folder.glob("*.txt")):
                uploader.upload(path)
            inproc_s = time.perf_counter() - start
            worst = worst_case(stack)
        finally:
            stack.stop()
    result = {"files": args.files, "accounts": args.accounts, "bytes": total,
              "bulk_run_s": round(bulk_s, 2), "bulk_files_per_s": round(args.files / bulk_s, 1),
              "bulk_to_uploaded_s": summary["seconds_to_uploaded"],
              "one_at_a_time_cli_s": round(single_s, 2), "one_at_a_time_cli_files_per_s": round(args.files / single_s, 1),
              "one_at_a_time_in_process_s": round(inproc_s, 2),
              "one_at_a_time_in_process_files_per_s": round(args.files / inproc_s, 1),
              "worst_case_1000_items": worst}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bulk.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"| {args.files} files ({total / 1024:.0f} KiB), {args.accounts} accounts | total s | files/s |")
    print("| --- | ---: | ---: |")
    print(f"| `kadr bulk run` (one task, verified) | {bulk_s:.1f} | {args.files / bulk_s:.1f} |")
    print(f"| `kadr upload` x {args.files}, one at a time (processes) | {single_s:.1f} | {args.files / single_s:.1f} |")
    print(f"| `Uploader.upload` x {args.files}, one at a time (one process) | {inproc_s:.1f} | "
          f"{args.files / inproc_s:.1f} |")
    print(f"\nworst case (1,000 items): {worst}")


if __name__ == "__main__":
    sys.exit(main())

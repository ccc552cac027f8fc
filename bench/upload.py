"""Upload benchmark: the `kadr upload` CLI against boto3's upload_file and a local copy.

``python -m bench.upload [--size-mib 1024] [--concurrency 8]``, one run:

1. starts the local stack in-process (moto server, API, SQS pump) on free ports, with the
   stage's part size (16 MiB unless KADR_PART_SIZE says otherwise), and writes a random file of
   ``--size-mib`` MiB in a temporary directory (it stays in the page cache for every run);
2. (a) the CLI as a subprocess: ``kadr upload FILE --json``. Its wall time is taken from outside
   (process start to exit); its peak RSS is the child's ``ru_maxrss`` (through a small launcher,
   see below). That wall time is the end-to-end figure: creating the file, sending the parts
   (each with its CRC32, the file's sha256 computed alongside), completing, and waiting until the
   server has verified the stored object (it streams it back from S3 and hashes it). The
   "to complete" figure is the same run up to the moment S3 had assembled the object: the wall
   time minus what the CLI reports after complete returned (``seconds`` -
   ``seconds_to_complete``: the verification wait). That is the part boto3 has an equivalent of;
3. the uploaded object is deleted (moto keeps objects in its process);
4. (b) boto3 ``upload_file`` as a subprocess (``--boto3-worker``), as installed (botocore >= 1.36:
   CRC32 per part, multipart upload created with ChecksumAlgorithm=CRC32, like the CLI's),
   TransferConfig with max_concurrency = the same concurrency and multipart_chunksize = the part
   size the server chose for (a), against the same moto endpoint (path-style, s3v4); wall time
   and peak RSS the same way; then its object is deleted;
   (a) and (b) alternate, (a) first in odd rounds, (b) first in even ones, after one unmeasured
   warm-up run of (a): moto's first GiB is slower than the rest, whoever sends it;
5. (c) ``shutil.copyfile`` of the file in the temporary directory;
6. prints a markdown table and writes bench/results/upload.json.

Both uploaders run in their own process against the moto server in this process, so neither
shares a GIL with moto; they do share the machine's cores with it (moto parses every request).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, environment, start_stack

MiB = 1024 * 1024


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 8 * MiB))
            out.write(block)
            left -= len(block)


def rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# A small launcher between this process and the measured command. Its RUSAGE_CHILDREN is the
# command's alone: spawning straight from this process (moto holds GiBs here) would charge the
# parent's pages, shared between fork and exec, to the child's ru_maxrss.
LAUNCHER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": wall, "peak_rss_kib": usage.ru_maxrss, "user_s": usage.ru_utime,
               "sys_s": usage.ru_stime}, out)
sys.exit(code)
"""


def run_measured(cmd: list[str], env: dict[str, str], work: Path) -> dict[str, Any]:
    """Run a command; wall time (command start to exit) and peak RSS of exactly that process."""
    report = work / "measure.json"
    done = subprocess.run([sys.executable, "-c", LAUNCHER, str(report), *cmd], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    measured = json.loads(report.read_text())
    return {"returncode": done.returncode, "seconds": measured["seconds"],
            "peak_rss_mib": measured["peak_rss_kib"] / 1024, "user_s": measured["user_s"],
            "sys_s": measured["sys_s"], "stdout": done.stdout, "stderr": done.stderr}


def delete_object(key: str) -> None:
    from chalicelib.provider import client, settings

    s3 = client("s3")
    bucket = settings().media_bucket
    s3.delete_object(Bucket=bucket, Key=key)
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    gc.collect()


def boto3_worker(args: argparse.Namespace) -> None:
    """The (b) child: boto3's managed upload, timed from inside too (without interpreter start).

    ``--checksums default`` is boto3 as installed (botocore >= 1.36 adds CRC32 checksums to
    every part, and creates the multipart upload with ChecksumAlgorithm=CRC32); ``when_required``
    sends none (moto then builds a full-object CRC64NVME on complete: ~7 s per GiB).
    """
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    started = time.perf_counter()
    extra = {} if args.checksums == "default" else {"request_checksum_calculation": "when_required"}
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                    max_pool_connections=args.concurrency + 2, **extra))
    config = TransferConfig(max_concurrency=args.concurrency, multipart_chunksize=args.chunk,
                            multipart_threshold=args.chunk, use_threads=True)
    complete = s3.complete_multipart_upload
    spent: dict[str, float] = {}

    def timed_complete(**kw: Any) -> Any:
        mark = time.perf_counter()
        try:
            return complete(**kw)
        finally:
            spent["complete"] = time.perf_counter() - mark

    s3.complete_multipart_upload = timed_complete  # type: ignore[method-assign]
    s3.upload_file(args.file, args.bucket, args.key, Config=config)
    print(json.dumps({"seconds": time.perf_counter() - started, **spent}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat (a) and (b) alternately; medians are reported (default 1)")
    parser.add_argument("--boto3-no-checksums", action="store_true",
                        help="also run boto3 without checksums (b'), as the server's uploads were before "
                             "part_checksum")
    parser.add_argument("--boto3-worker", metavar="FILE", dest="file", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--checksums", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.file:
        return boto3_worker(args)

    size = args.size_mib * MiB
    say = sys.stderr.write
    with tempfile.TemporaryDirectory(prefix="kadr-bench-upload-") as tmp:
        work = Path(tmp)
        say(f"bench: writing a {args.size_mib} MiB random file ...\n")
        source = work / "bench.mp4"
        write_random(source, size)
        RESULTS.mkdir(exist_ok=True)
        # The in-process app (Powertools logs, EMF metrics, the local server's access log) writes
        # to stdout and stderr: keep that out of the table.
        real = sys.stdout, sys.stderr
        with open(RESULTS / "upload-app.log", "w") as log:
            sys.stdout = sys.stderr = log
            try:
                stack = start_stack(work / "stack")
                try:
                    results = measure(stack, source, size, args, work, lambda m: real[1].write(m) and real[1].flush())
                finally:
                    stack.stop()
            finally:
                sys.stdout, sys.stderr = real
    print_table(results)
    (RESULTS / "upload.json").write_text(json.dumps(results, indent=2))


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(stack: Any, source: Path, size: int, args: argparse.Namespace, work: Path,
            say: Any) -> dict[str, Any]:
    from chalicelib.provider import settings
    from chalicelib.uploads.models import FileRow

    env = {**os.environ, "KADR_API": stack.api_url, "KADR_TOKEN": stack.tokens["uploader"],
           "KADR_UPLOAD_STATE_DIR": str(work / "cli-state")}
    bucket = settings().media_bucket
    mib = size / MiB
    runs: dict[str, list[dict[str, Any]]] = {"cli": [], "boto3": []}
    if args.boto3_no_checksums:
        runs["boto3_no_checksums"] = []
    def run_cli(label: str) -> dict[str, Any]:
        say(f"bench: {label}: (a) kadr upload ...\n")
        cli = run_measured([str(ROOT / ".venv" / "bin" / "kadr"), "upload", str(source), "--kind", "video",
                            "--concurrency", str(args.concurrency), "--no-progress", "--json"], env, work)
        if cli["returncode"] != 0:
            raise SystemExit(f"bench: the CLI failed ({cli['returncode']}): {cli['stderr'].strip()}")
        summary = json.loads(cli["stdout"])
        if summary["status"] != "processing":
            raise SystemExit(f"bench: the CLI's upload ended {summary['status']}")
        delete_object(FileRow.get(summary["file_id"]).object_key)
        t = summary["timings"]
        after_complete = summary["seconds"] - summary["seconds_to_complete"]  # the verification wait
        to_complete = cli["seconds"] - after_complete
        return {"seconds": cli["seconds"], "peak_rss_mib": cli["peak_rss_mib"], "user_s": cli["user_s"],
                "sys_s": cli["sys_s"], **{f"{k}_s": v for k, v in t.items()}, "to_complete_s": to_complete,
                "before_complete_s": to_complete - t.get("complete", 0.0),
                "inner_to_complete_s": summary["seconds_to_complete"],
                "inner_to_verified_s": summary["seconds_to_verified"], "status": summary["status"],
                "sign_calls": summary["sign_calls"], "crc32_parts_computed": summary["crc32_parts_computed"],
                "part_size": summary["part_size"], "part_count": summary["part_count"], "bench_rss_mib": rss_mib()}

    def run_boto3(label: str, name: str, checksums: str) -> dict[str, Any]:
        say(f"bench: {label}: (b) boto3 upload_file, checksums {checksums} ...\n")
        key = f"bench/{name}-{os.getpid()}-{label.replace(' ', '-').replace('/', '-')}"
        boto = run_measured([sys.executable, "-m", "bench.upload", "--boto3-worker", str(source), "--endpoint",
                             stack.moto_url, "--bucket", bucket, "--key", key, "--chunk", str(part_size),
                             "--concurrency", str(args.concurrency), "--checksums", checksums], env, work)
        if boto["returncode"] != 0:
            raise SystemExit(f"bench: boto3 failed: {boto['stderr'].strip()[-2000:]}")
        delete_object(key)
        inner = json.loads(boto["stdout"].strip().splitlines()[-1])
        return {"seconds": boto["seconds"], "peak_rss_mib": boto["peak_rss_mib"], "user_s": boto["user_s"],
                "sys_s": boto["sys_s"], "inner_s": inner["seconds"], "complete_s": inner.get("complete"),
                "before_complete_s": boto["seconds"] - inner.get("complete", 0.0), "bench_rss_mib": rss_mib()}

    # Unmeasured: moto's first 1 GiB (allocations, the first complete) is slower than the rest, and
    # would be charged to whichever ran first. It also tells the part size boto3 is to use.
    warm = run_cli("warm-up")
    part_size, summary = int(warm["part_size"]), warm
    boto_runs = [("boto3", "default"), ("boto3_no_checksums", "when_required")][:len(runs) - 1]
    for round_no in range(1, args.rounds + 1):
        label = f"round {round_no}/{args.rounds}"
        # Alternate who goes first, so that neither always runs right after the other's cleanup.
        if round_no % 2:
            runs["cli"].append(run_cli(label))
        for name, checksums in boto_runs:
            runs[name].append(run_boto3(label, name, checksums))
        if not round_no % 2:
            runs["cli"].append(run_cli(label))

    say("bench: (c) shutil.copyfile ...\n")
    target = work / "copy.mp4"
    started = time.perf_counter()
    shutil.copyfile(source, target)
    copy_s = time.perf_counter() - started
    target.unlink()

    def med(name: str, field: str) -> float:
        return median([r[field] for r in runs[name]])

    cli_s, cli_complete_s, cli_parts_s = med("cli", "seconds"), med("cli", "to_complete_s"), med("cli", "parts_s")
    boto_s = med("boto3", "seconds")
    rates = {"cli_to_complete": mib / cli_complete_s, "cli_end_to_end": mib / cli_s,
             "cli_parts_phase": mib / cli_parts_s, "boto3": mib / boto_s, "copy": mib / copy_s}
    seconds = {
        "cli_to_complete": round(cli_complete_s, 3), "cli_end_to_end": round(cli_s, 3),
        "cli_create": round(med("cli", "create_s"), 3), "cli_parts": round(cli_parts_s, 3),
        "cli_sha256_background": round(med("cli", "hash_s"), 3), "cli_sha256_wait": round(med("cli", "hash_wait_s"), 3),
        "cli_crc32_compute": round(med("cli", "crc32_s"), 3),
        "cli_complete": round(med("cli", "complete_s"), 3), "cli_verify_wait": round(med("cli", "verify_s"), 3),
        "boto3": round(boto_s, 3), "boto3_complete": round(med("boto3", "complete_s"), 3),
        # everything but S3's CompleteMultipartUpload (which is moto's work, the same for both)
        "cli_before_complete": round(med("cli", "before_complete_s"), 3),
        "boto3_before_complete": round(med("boto3", "before_complete_s"), 3),
    }
    ratios = {
        "cli_to_complete_vs_boto3": round(rates["cli_to_complete"] / rates["boto3"], 2),
        "cli_end_to_end_vs_boto3": round(rates["cli_end_to_end"] / rates["boto3"], 2),
        "cli_before_complete_vs_boto3": round(seconds["boto3_before_complete"] / seconds["cli_before_complete"], 2),
        "cli_to_complete_vs_copy": round(rates["cli_to_complete"] / rates["copy"], 3),
        "cli_end_to_end_vs_copy": round(rates["cli_end_to_end"] / rates["copy"], 3),
    }
    peak = {"cli": round(max(r["peak_rss_mib"] for r in runs["cli"]), 1),
            "boto3": round(max(r["peak_rss_mib"] for r in runs["boto3"]), 1)}
    if "boto3_no_checksums" in runs:
        nc_s = med("boto3_no_checksums", "seconds")
        rates["boto3_no_checksums"] = mib / nc_s
        seconds["boto3_no_checksums"] = round(nc_s, 3)
        seconds["boto3_no_checksums_complete"] = round(med("boto3_no_checksums", "complete_s"), 3)
        ratios["cli_to_complete_vs_boto3_no_checksums"] = round(rates["cli_to_complete"] / rates["boto3_no_checksums"], 2)
        peak["boto3_no_checksums"] = round(max(r["peak_rss_mib"] for r in runs["boto3_no_checksums"]), 1)
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "environment": environment(),
        "size_mib": mib, "concurrency": args.concurrency, "rounds": args.rounds,
        "part_size_mib": part_size / MiB, "part_count": summary["part_count"],
        "warm_up": warm,
        "runs": runs,
        "copy_seconds": round(copy_s, 3),
        "median_seconds": seconds,
        "mib_per_s": {k: round(v, 1) for k, v in rates.items()},
        "ratios": ratios,
        "peak_rss_mib": peak,
        "targets": {"cli_to_complete_vs_boto3": ">= 1.0", "cli_peak_rss_mib": "< 200"},
    }


def print_table(r: dict[str, Any]) -> None:
    rate, ratio, sec, rss = r["mib_per_s"], r["ratios"], r["median_seconds"], r["peak_rss_mib"]
    rounds = f", median of {r['rounds']} rounds" if r["rounds"] > 1 else ""
    print(f"\n### Upload of {r['size_mib']:.0f} MiB, concurrency {r['concurrency']}, {r['part_count']} parts of "
          f"{r['part_size_mib']:.0f} MiB, {r['environment']['cpus']} CPUs{rounds}\n")
    print("| run | seconds | MiB/s | peak RSS |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| (a) `kadr upload`, to complete (CRC32 parts, sha256 alongside, S3 object assembled) | "
          f"{sec['cli_to_complete']:.2f} | {rate['cli_to_complete']:.1f} | {rss['cli']:.0f} MiB |")
    print(f"| (a) `kadr upload`, end to end (+ waiting for the server's sha256 check) | {sec['cli_end_to_end']:.2f} "
          f"| {rate['cli_end_to_end']:.1f} | (same run) |")
    print(f"| (b) boto3 `upload_file`, as installed (CRC32 part checksums) | {sec['boto3']:.2f} | {rate['boto3']:.1f} | "
          f"{rss['boto3']:.0f} MiB |")
    if "boto3_no_checksums" in rate:
        print(f"| (b') boto3 `upload_file`, no checksums | {sec['boto3_no_checksums']:.2f} | "
              f"{rate['boto3_no_checksums']:.1f} | {rss['boto3_no_checksums']:.0f} MiB |")
    print(f"| (c) `shutil.copyfile` | {r['copy_seconds']:.2f} | {rate['copy']:.1f} | |")
    print(f"\nCLI phases: create {sec['cli_create']:.2f} s, parts {sec['cli_parts']:.2f} s "
          f"({rate['cli_parts_phase']:.0f} MiB/s; CRC32 compute {sec['cli_crc32_compute']:.2f} s and sha256 "
          f"{sec['cli_sha256_background']:.2f} s alongside), waiting for the sha256 after the parts "
          f"{sec['cli_sha256_wait']:.2f} s, complete {sec['cli_complete']:.2f} s, waiting for the server's check "
          f"{sec['cli_verify_wait']:.2f} s. S3 complete inside boto3: {sec['boto3_complete']:.2f} s. Everything but "
          f"S3's complete: CLI {sec['cli_before_complete']:.2f} s, boto3 {sec['boto3_before_complete']:.2f} s.")
    print("\n| ratio | value | target |\n| --- | ---: | --- |")
    print(f"| CLI / boto3, to complete | {ratio['cli_to_complete_vs_boto3']:.2f}x | >= 1.0x |")
    print(f"| CLI / boto3, end to end (CLI includes the server's check) | {ratio['cli_end_to_end_vs_boto3']:.2f}x | |")
    print(f"| CLI / boto3, everything but S3's complete | {ratio['cli_before_complete_vs_boto3']:.2f}x | |")
    if "cli_to_complete_vs_boto3_no_checksums" in ratio:
        print(f"| CLI / boto3 without checksums, to complete | {ratio['cli_to_complete_vs_boto3_no_checksums']:.2f}x | |")
    print(f"| CLI / copy, to complete | {ratio['cli_to_complete_vs_copy']:.3f}x | |")
    print(f"| CLI / copy, end to end | {ratio['cli_end_to_end_vs_copy']:.3f}x | |")
    print(f"| CLI peak RSS | {rss['cli']:.0f} MiB | < 200 MiB |")


if __name__ == "__main__":
    main()

"""Package the app for AWS: ``python -m infra.package OUT_DIR [--stage dev]``.

``chalice package --merge-template`` takes one template; Kadr has two:

- ``resources.json``: tables, bucket, queues (also deployable on its own, and what moto gets);
- ``gateway_responses.json``: a fragment of Chalice's own ``RestAPI``, API Gateway's gateway
  responses in the app's error shape (an unknown path or unrouted method, API Gateway's
  MISSING_AUTHENTICATION_TOKEN, becomes a 404 ``not_found``; DEFAULT_4XX/5XX keep their status
  with a JSON body). They sit in the API's OpenAPI body, so every deployment carries them.
- ``realtime_wiring.json``: what the live-status functions learn from the stack itself: the
  stream handler's event source is the files table's ``StreamArn`` (not an ARN known at package
  time), every function's ``KADR_WS_MANAGEMENT_URL`` is the WebSocket API's own endpoint (so any
  handler can ``publish``), and the stream and subscribe handlers' ``KADR_API_BASE_URL`` is the REST API's
  (a stage's ``KADR_PUBLIC_BASE_URL``, e.g. a custom domain, takes precedence).

This deep-merges both into one file and runs ``chalice package`` with it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

INFRA = Path(__file__).resolve().parent
ROOT = INFRA.parent
MERGE_TEMPLATES = (INFRA / "resources.json", INFRA / "gateway_responses.json", INFRA / "realtime_wiring.json")


def deep_merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{k: deep_merge(base[k], v) if k in base else v for k, v in extra.items()}}
    return extra


def merge_template() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in MERGE_TEMPLATES:
        merged = deep_merge(merged, json.loads(path.read_text()))
    return merged


def package(out_dir: Path, stage: str = "dev") -> subprocess.CompletedProcess[str]:
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory() as tmp:
        merge = Path(tmp) / "merge.json"
        merge.write_text(json.dumps(merge_template()))
        return subprocess.run([str(chalice), "package", "--stage", stage, "--pkg-format", "cloudformation",
                               "--merge-template", str(merge), str(out_dir)],
                              cwd=ROOT, env={"AWS_DEFAULT_REGION": "us-east-1", **os.environ},
                              capture_output=True, text=True, timeout=600)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="chalice package with Kadr's merge templates")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    result = package(args.out_dir, args.stage)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    raise SystemExit(result.returncode)


if __name__ == "__main__":
    main()

"""``kadr violations load FILE.xlsx``: import a workbook into the violations catalog.

Posts the file as it is to ``POST /violations/import`` with the editor token (flags, then
KADR_API / KADR_TOKEN, then .kadr/local.json). The server takes all rows or none; when it
refuses, every error is printed with its sheet, cell and column.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from kadr_cli.config import resolve
from kadr_cli.errors import UploadError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE = 16 * 1024 * 1024  # far above the server's limit: only keeps a wrong file out of memory


def add_parser(commands: Any) -> None:
    top = commands.add_parser("violations", help="the violations catalog (Excel in)",
                              description="Work with the violations catalog.")
    actions = top.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser("load", help="import a workbook: upsert by id, all rows or none",
                              description="Import FILE (.xlsx; columns id, violations, context, age, mark, "
                                          "and optionally basis, lexicons) into the catalog.")
    load.add_argument("file", metavar="FILE")
    load.add_argument("--api", help="API base URL (default: $KADR_API, else .kadr/local.json)")
    load.add_argument("--token", help="editor bearer token (default: $KADR_TOKEN, else the editor token in "
                                      ".kadr/local.json)")
    load.add_argument("--json", action="store_true", help="print the server's report as JSON")


def _where(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    place = f"{detail.get('sheet')}!{detail['cell']}" if detail.get("cell") else f"{detail.get('sheet')} row {detail.get('row')}"
    column = f" ({detail['column']})" if detail.get("column") else ""
    return f"{place}{column}: {detail.get('msg')}"


def run(args: argparse.Namespace, session: Any = None) -> int:
    import requests

    path = args.file
    if not os.path.isfile(path):
        print(f"kadr: error: {path}: no such file", file=sys.stderr)
        return 1
    if os.path.getsize(path) > MAX_FILE:
        print(f"kadr: error: {path} is larger than {MAX_FILE} bytes; not a catalog workbook", file=sys.stderr)
        return 1
    try:
        api, token = resolve(args.api, args.token, role="editor")
        with open(path, "rb") as handle:
            body = handle.read()
        http = session or requests.Session()
        response = http.post(f"{api}/violations/import", data=body, timeout=120,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX,
                                      "Accept": "application/json"})
    except UploadError as exc:
        print(f"kadr: error: {exc}", file=sys.stderr)
        return 1
    except requests.RequestException as exc:
        print(f"kadr: error: cannot reach the API: {exc}", file=sys.stderr)
        return 1
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code != 200 or not isinstance(payload, dict) or "count" not in payload:
        error = payload.get("error", {}) if isinstance(payload, dict) else {}
        message = error.get("message") or (response.text or "")[:200]
        print(f"kadr: error: {message} [HTTP {response.status_code} {error.get('code', 'error')}]", file=sys.stderr)
        for detail in error.get("details") or []:
            print(f"  {_where(detail)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(f"loaded {path}: {payload['count']} categories from sheet {payload['sheet']!r}: "
              f"{payload['created']} created, {payload['updated']} updated, {payload['unchanged']} unchanged")
    return 0

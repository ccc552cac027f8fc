"""`kadr bulk` against the local stack: a manifest over accounts, a crash mid-file and the rerun
that skips what is done and resumes what is partial, status, logs, report."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kadr_cli import bulk as bulk_cli
from kadr_cli import main as cli
from kadr_cli.uploader import Uploader
from tests.helpers import Api

MIB = 1024 * 1024


class Crash(Exception):
    """Stands in for the process dying after some parts."""


def _args(api: Api, tmp_path: Path) -> list[str]:
    return ["--api", api.base, "--token", api.tokens["uploader"]]


def test_a_manifest_run_crashes_mid_file_and_a_rerun_finishes_it(api: Api, stack: Any, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    rows = []
    for i in range(6):
        name = f"scene-{i}.txt"
        (folder / name).write_bytes(f"INT. HALL {i} - NIGHT\n".encode() * (i + 1))
        rows.append({"path": f"files/{name}", "account": ("north", "south")[i % 2]})
    # 3 parts of 5 MiB. A video: a .txt that size is a screenplay the built-in analyzer refuses as
    # unreadable (over its 10M characters), which would fail the item.
    (folder / "big.mp4").write_bytes(os.urandom(11 * MIB))
    rows.append({"path": "files/big.mp4", "account": ""})  # takes --account
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["path", "account"])
        writer.writeheader()
        writer.writerows(rows)
    state = ["--state-dir", str(tmp_path / "state")]

    original = Uploader.upload

    def crashing(self: Uploader, path: Any, **kw: Any) -> Any:
        if Path(path).name != "big.mp4":
            return original(self, path, **kw)

        def after_a_part(done: Any) -> None:
            kw["on_part_done"](done)
            if done.parts_sent == 1:
                raise Crash()
        return original(self, path, **{**kw, "on_part_done": after_a_part})

    monkeypatch.setattr(Uploader, "upload", crashing)
    with pytest.raises(Crash):
        cli.main(["bulk", "run", str(manifest), "--account", "west", "--files-at-once", "1", "--no-progress",
                  *state, *_args(api, tmp_path)])
    monkeypatch.setattr(Uploader, "upload", original)

    code = cli.main(["bulk", "run", str(manifest), "--account", "west", "--no-progress", "--json", *state,
                     *_args(api, tmp_path)])
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{\n"):])
    assert code == 0, result
    assert result["status"] == "completed" and result["succeeded"] == 7
    assert result["resumed"] == ["big.mp4"] and result["skipped"] >= 1  # done before the crash: not sent again
    assert {a["account"]: a["total"] for a in result["accounts"]} == {"north": 3, "south": 3, "west": 1}
    task = result["task_id"]

    assert cli.main(["bulk", "run", str(manifest), "--account", "west", "--no-progress", "--json", *state,
                     *_args(api, tmp_path)]) == 0
    out = capsys.readouterr().out
    again = json.loads(out[out.index("{\n"):])
    assert again["task_id"] == task and again["uploaded"] == 0 and again["skipped"] == 7  # nothing sent twice

    assert cli.main(["bulk", "status", task, *_args(api, tmp_path)]) == 0
    status = capsys.readouterr().out
    assert "completed" in status and "north" in status and "west" in status

    assert cli.main(["bulk", "logs", task, "--account", "west", *_args(api, tmp_path)]) == 0
    logs = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")]  # app's own logs
    # the created line; once the streams pump runs in the stack, the upload's own lines follow it
    assert "big.mp4: created as file" in logs[0] and all("[west]" in line and "big.mp4" in line for line in logs)

    assert cli.main(["bulk", "report", task, "--format", "csv", *_args(api, tmp_path)]) == 0
    text = "\n".join(line for line in capsys.readouterr().out.splitlines() if not line.startswith("{"))
    report = list(csv.DictReader(io.StringIO(text)))
    assert [r["result"] for r in report] == ["succeeded"] * 7 and report[6]["filename"] == "big.mp4"
    target = tmp_path / "report.xlsx"
    assert cli.main(["bulk", "report", task, "--format", "xlsx", "-o", str(target), *_args(api, tmp_path)]) == 0
    import openpyxl

    assert openpyxl.load_workbook(target).active.max_row == 8


def test_a_folder_needs_an_account_and_bad_manifests_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(Exception, match="needs --account"):
        bulk_cli.entries(tmp_path, None, None, None)
    assert [e.account for e in bulk_cli.entries(tmp_path, "acme", None, None)] == ["acme"]
    manifest = tmp_path / "m.csv"
    manifest.write_text("file\na.txt\n")
    with pytest.raises(Exception, match="'path' column"):
        bulk_cli.entries(manifest, "acme", None, None)
    manifest.write_text("path,account\nmissing.txt,a\n")
    with pytest.raises(Exception, match="row 2"):
        bulk_cli.entries(manifest, None, None, None)

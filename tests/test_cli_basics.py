"""The `kadr` command line without the stack: --version, what `kadr --help` imports, the
progress bar's units, and what a run leaves in the state directory."""
from __future__ import annotations

import fcntl
import io
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from infra.stack import ROOT
from kadr_cli import main as cli
from kadr_cli.errors import UploadError
from kadr_cli.fileio import MiB
from kadr_cli.report import Progress
from kadr_cli.state import StateStore

CHECK_IMPORTS = """
import sys
from kadr_cli.main import main
try:
    main(["--help"])
except SystemExit:
    pass
print("requests" in sys.modules, "kadr_cli.uploader" in sys.modules)
"""


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"kadr {metadata.version('kadr')}\n"


def test_version_without_package_metadata_says_unknown(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out == "kadr unknown\n"


def test_help_does_not_import_requests() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK_IMPORTS], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False False"  # usage text above, then the check
    assert "usage: kadr" in done.stdout


def test_uploader_is_still_importable_from_the_package() -> None:
    import kadr_cli
    from kadr_cli.uploader import Uploader

    assert kadr_cli.Uploader is Uploader
    with pytest.raises(AttributeError):
        kadr_cli.Nothing  # noqa: B018 - the module's __getattr__ must refuse other names


def test_the_progress_bar_counts_in_mib_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    bar = Progress(True, print).bar(64 * MiB, "clip.mp4", initial=16 * MiB)
    for sent in (8 * MiB, 24 * MiB, 48 * MiB):
        time.sleep(0.25)  # past the bar's minimum refresh interval
        bar.advance_to(sent)
    shown = capsys.readouterr().err.replace("\r", "\n")
    bar.close()
    assert "64.0/64.0 MiB" in shown and " MiB/s]" in shown
    assert "MB/s" not in shown and "M/" not in shown


def test_the_lock_keeps_a_second_run_off_and_is_removed_when_released(tmp_path: Path) -> None:
    first, second = StateStore(tmp_path), StateStore(tmp_path)
    first.lock("k")
    with pytest.raises(UploadError, match="another kadr upload of this file is running"):
        second.lock("k")
    first.unlock("k")
    assert list(tmp_path.iterdir()) == []
    second.lock("k")  # free again
    assert [p.name for p in tmp_path.iterdir()] == ["k.lock"]
    second.unlock("k")
    assert list(tmp_path.iterdir()) == []


def test_a_lock_taken_on_a_removed_lock_file_is_taken_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race the removal opens: B opens the lock file, A removes it and releases, B gets the
    flock on the removed file. B must notice and lock the file that now has the name."""
    store, holder = StateStore(tmp_path), StateStore(tmp_path)
    holder.lock("k")
    real_flock = fcntl.flock
    calls: list[int] = []

    def flock_after_release(fd: int, op: int) -> None:
        if not calls:  # B has opened the old file; A finishes now
            holder.unlock("k")
        calls.append(fd)
        real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock_after_release)
    store.lock("k")
    assert len(calls) == 2  # the removed file's lock was given up and the new file locked
    assert os.path.samestat(os.fstat(store._locks["k"]), os.stat(tmp_path / "k.lock"))
    store.unlock("k")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stdout_tty, stderr_tty, bar", [(True, True, True), (False, True, False),
                                                         (True, False, False), (False, False, False)])
def test_a_bar_needs_a_terminal_else_plain_lines(monkeypatch: pytest.MonkeyPatch, stdout_tty: bool,
                                                 stderr_tty: bool, bar: bool) -> None:
    monkeypatch.setattr(sys, "stdout", Terminal() if stdout_tty else io.StringIO())
    monkeypatch.setattr(sys, "stderr", Terminal() if stderr_tty else io.StringIO())
    said: list[str] = []
    progress = Progress(None, said.append)
    progress.plain("uploading")
    progress.note("completing ...")
    shown = progress.bar(10, "x")
    shown.close()
    assert (type(shown).__name__ == "_Bar") is bar
    assert said == (["completing ..."] if bar else ["uploading"])


def test_no_progress_says_nothing_and_progress_forces_the_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    said: list[str] = []
    quiet, forced = Progress(False, said.append), Progress(True, said.append)
    quiet.plain("a"), quiet.note("b"), forced.plain("c")
    bars = quiet.bar(1, "x"), forced.bar(1, "x")
    for bar in bars:
        bar.close()
    assert said == [] and [type(bar).__name__ for bar in bars] == ["_NoBar", "_Bar"]

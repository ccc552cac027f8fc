"""The `kadr` command line without the stack: --version, what `kadr --help` imports, the
progress bar's units, and what a run leaves in the state directory."""
from __future__ import annotations

import subprocess
import sys
import time
from importlib import metadata

import pytest

from infra.stack import ROOT
from kadr_cli import main as cli
from kadr_cli.fileio import MiB
from kadr_cli.report import Progress

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

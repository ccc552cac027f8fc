"""No unused imports or variables, no undefined names (pyflakes rules through ruff)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.stack import ROOT


def test_code_has_no_dead_imports_or_undefined_names() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--select", "F", "--output-format", "concise",
                             "app.py", "chalicelib", "infra", "kadr_cli", "bench", "tests"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

"""`kadr-token` finds the local stack's signing key by itself, or says in one line what to do."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import jwt
import pytest

from chalicelib.auth import local_secret
from chalicelib.auth import main as kadr_token
from infra.stack import ROOT

KADR_TOKEN = ROOT / ".venv" / "bin" / "kadr-token"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("KADR_TOKEN_SECRET", "KADR_STATE_DIR")}
    return subprocess.run([str(KADR_TOKEN), *args], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60, cwd=env.get("KADR_STATE_DIR", ROOT))


def test_without_a_key_it_is_a_one_line_error_and_exit_code_2(tmp_path: Path) -> None:
    done = run("--role", "reader", KADR_STATE_DIR=str(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("kadr-token: error: no signing key: set KADR_TOKEN_SECRET")
    assert str(tmp_path / "secret") in done.stderr


def test_it_signs_with_the_state_dirs_secret(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("a-local-stack-key-of-at-least-32-bytes\n")
    done = run("--role", "editor", "--sub", "alice", KADR_STATE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), "a-local-stack-key-of-at-least-32-bytes", algorithms=["HS256"], issuer="kadr")
    assert claims["role"] == "editor" and claims["sub"] == "alice"


def test_the_environment_comes_first_then_the_state_dir_then_the_nearest_kadr_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".kadr").mkdir()
    (tmp_path / ".kadr" / "secret").write_text("found-upward")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    state = tmp_path / "state"
    state.mkdir()
    (state / "secret").write_text("from-state-dir")
    monkeypatch.delenv("KADR_TOKEN_SECRET", raising=False)
    monkeypatch.delenv("KADR_STATE_DIR", raising=False)
    assert local_secret(start=deep) == "found-upward"
    monkeypatch.setenv("KADR_STATE_DIR", str(state))
    assert local_secret(start=deep) == "from-state-dir"
    monkeypatch.setenv("KADR_TOKEN_SECRET", "from-env")
    assert local_secret(start=deep) == "from-env"
    monkeypatch.delenv("KADR_TOKEN_SECRET")
    (state / "secret").write_text("  \n")  # an empty key is no key
    assert local_secret(start=deep) is None


def test_help_says_where_the_key_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        kadr_token(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "KADR_TOKEN_SECRET" in text and "KADR_STATE_DIR" in text and ".kadr/secret" in text

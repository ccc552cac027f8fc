"""``kadr violations load``: the CLI posts the workbook to the in-process app (chalice's test
client behind a stand-in for requests.Session) with the editor token from .kadr/local.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.catalog.models import ViolationRow
from kadr_cli.main import main
from tests.unit.conftest import token
from tests.unit.test_catalog import CLIENT_WORKBOOK, edited


class Reply:
    def __init__(self, response: Any) -> None:
        self.status_code = response.status_code
        self.text = response.body.decode()

    def json(self) -> Any:
        return json.loads(self.text)


class AppSession:
    """What the CLI calls on requests.Session, answered by the chalice test client."""

    def __init__(self, http: Any) -> None:
        self.http = http
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.editor = ""

    def post(self, url: str, data: bytes, headers: dict[str, str], timeout: float) -> Reply:
        self.calls.append((url, headers))
        return Reply(self.http.http.post(url.removeprefix("http://kadr.test"), headers=headers, body=data))


@pytest.fixture
def session(http, monkeypatch, tmp_path: Path) -> AppSession:  # noqa: ANN001
    with ViolationRow.batch_write() as batch:
        for row in ViolationRow.scan(consistent_read=True):
            batch.delete(row)
    state = tmp_path / ".kadr"
    state.mkdir()
    editor = token("editor")
    (state / "local.json").write_text(json.dumps({"api": "http://kadr.test", "tokens": {
        "uploader": token("uploader"), "editor": editor}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KADR_API", raising=False)
    monkeypatch.delenv("KADR_TOKEN", raising=False)
    fake = AppSession(http)
    fake.editor = editor
    monkeypatch.setattr("requests.Session", lambda: fake)
    return fake


def test_load_imports_the_client_workbook_with_the_editor_token(session: AppSession, capsys) -> None:  # noqa: ANN001
    assert main(["violations", "load", str(CLIENT_WORKBOOK)]) == 0
    out = capsys.readouterr().out
    assert "58 categories" in out and "58 created" in out and "'Лист1'" in out
    url, headers = session.calls[0]
    assert url == "http://kadr.test/violations/import" and headers["Authorization"] == f"Bearer {session.editor}"
    assert main(["violations", "load", "--json", str(CLIENT_WORKBOOK)]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 58


def test_a_refused_workbook_prints_every_error_and_exits_1(session: AppSession, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(edited(CLIENT_WORKBOOK.read_bytes(), {"D31": "sixteen"}))
    assert main(["violations", "load", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "HTTP 422 invalid_workbook_rows" in err and "Лист1!D31 (age): 'sixteen'" in err
    assert ViolationRow.count() == 0


def test_a_missing_file_or_the_wrong_role_is_one_line(session: AppSession, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["violations", "load", str(tmp_path / "nope.xlsx")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["violations", "load", "--token", token("uploader"), str(CLIENT_WORKBOOK)]) == 1
    assert "HTTP 403 forbidden" in capsys.readouterr().err

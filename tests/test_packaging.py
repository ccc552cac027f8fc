"""The app packages for AWS: `chalice package` builds every function, and the result lints."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.package import package
from infra.stack import ROOT


def test_chalice_package_builds_every_handler(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    result = package(tmp_path, "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((tmp_path / "sam.json").read_text())
    functions = {name: res["Properties"] for name, res in template["Resources"].items()
                 if res["Type"] == "AWS::Serverless::Function"}
    assert {props["Handler"] for props in functions.values()} == {
        "app.app", "app.count_views", "app.report_views_backlog", "app.on_upload_stored", "app.sweep_stale_uploads",
        "app.on_refer_timer", "app.repair_refer_timers", "chalicelib.routes.review.on_analysis",
        "app.ws_connect", "app.ws_message", "app.ws_disconnect", "app.on_file_change"}
    analysis = next(props for props in functions.values() if props["Handler"].endswith(".on_analysis"))
    assert analysis["Timeout"] == 300 and analysis["MemorySize"] == 1024  # .chalice lambda_functions
    env_vars = functions["APIHandler"]["Environment"]["Variables"]
    assert env_vars["KADR_PAGES_TABLE"] == "kadr-dev-pages" and env_vars["KADR_FILES_TABLE"] == "kadr-dev-files"
    assert {"PagesTable", "FilesTable", "ResultsTable", "MediaBucket", "ViewsQueue", "ReferQueue",
            "FindingsTable", "AnalysisQueue", "RealtimeTable", "WebsocketAPI"} <= set(template["Resources"])
    # Live status: the stream handler reads the files table's own stream, every function can push.
    stream = functions["OnFileChange"]["Events"]["OnFileChangeDynamodbEventSource"]["Properties"]["Stream"]
    assert stream == {"Fn::GetAtt": ["FilesTable", "StreamArn"]}
    assert "${WebsocketAPI}" in template["Globals"]["Function"]["Environment"]["Variables"][
        "KADR_WS_MANAGEMENT_URL"]["Fn::Sub"]
    assert "KADR_API_BASE_URL" in functions["OnFileChange"]["Environment"]["Variables"]
    assert "KADR_API_BASE_URL" in functions["WebsocketMessage"]["Environment"]["Variables"]
    # API Gateway's own answers in the error shape: an unknown path or method is a JSON 404.
    api = template["Resources"]["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api" and api["Properties"]["DefinitionBody"]["paths"]
    responses = api["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"}
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    assert json.loads(missing["responseTemplates"]["application/json"])["error"]["code"] == "not_found"
    for response in responses.values():
        assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
        assert set(json.loads(response["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"message"'))) == {"error"}
    lint = subprocess.run([str(bin_dir / "cfn-lint"), str(tmp_path / "sam.json")], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_non_editable_install_has_every_package(tmp_path: Path) -> None:
    """Packages are discovered, not listed: a new package cannot be left out of an install."""
    target = tmp_path / "site"
    build = ROOT / "build"
    existed = build.exists()
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                        "--target", str(target), str(ROOT)], check=True, capture_output=True)
    finally:
        if not existed:  # setuptools builds in the source tree
            shutil.rmtree(build, ignore_errors=True)
    expected = {p.parent.relative_to(ROOT).as_posix() for top in ("chalicelib", "kadr_cli", "infra")
                for p in (ROOT / top).rglob("__init__.py")}
    installed = {p.parent.relative_to(target).as_posix() for p in target.rglob("__init__.py")
                 if p.parent.relative_to(target).parts[0] in ("chalicelib", "kadr_cli", "infra")}
    assert "chalicelib/uploads" in expected and installed == expected
    probe = ("import chalicelib.uploads.service, kadr_cli.main, sys; "
             "print(chalicelib.uploads.service.__file__)")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip().startswith(str(target))
    assert (target / "infra" / "resources.json").exists()

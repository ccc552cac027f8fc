"""Authorization matrix: every route × every identity × own/foreign resource, against the local stack.

Driven by the route table (``app.routes`` and each view's ``kadr_spec``): a route without a row in
``ROUTES`` fails the test, so whoever adds a route states who may call it. Each cell is a real
request with a valid body on a fresh resource, so a refusal can only come from authorization.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import json

import pytest
import requests

from chalicelib.auth import issue_token
from chalicelib.refer.schemas import EXAMPLE
from tests.helpers import Api

IDENTITIES = ("anonymous", "reader", "uploader", "editor", "analyzer", "admin")
OK = "ok"  # past authorization: the row's success status

# Who may call a route. Per policy and scope, the outcome for each identity in IDENTITIES' order.
OUTCOMES: dict[str, dict[str, tuple[Any, ...]]] = {
    #                    anonymous reader uploader editor analyzer admin
    "open":     {"any": (OK,       OK,    OK,      OK,    OK,      OK)},
    "editor":   {"any": (401,      403,   403,     OK,    403,     OK)},
    "uploader": {"any": (401,      403,   OK,      403,   403,     OK)},
    # Owner routes: another uploader's file is a 404, never a 403, so its existence stays hidden.
    "owner":    {"own":     (401,  403,   OK,      403,   403,     OK),
                 "foreign": (401,  403,   404,     403,   403,     OK)},
    # Comments: the owner, or an analyzer that downloaded the file (a fresh file: nobody did, so 404).
    "owner_or_analyzer": {"own":     (401, 403, OK,  403,   404,     OK),
                          "foreign": (401, 403, 404, 403,   404,     OK)},
    "signed_in": {"any": (401,     OK,    OK,      OK,    OK,      OK)},
    # Refer-key routes: the key is the resource; posting needs a download with it first.
    "analyzer": {"any": (401,      403,   403,     403,   OK,      OK)},
}
# The roles each policy must declare on its route (the table and the code cannot drift apart).
POLICY_ROLES = {"open": None, "editor": ("editor",), "uploader": ("uploader",), "owner": ("uploader",),
                "owner_or_analyzer": ("uploader", "analyzer"),
                "signed_in": ("reader", "uploader", "editor", "analyzer"), "analyzer": ("analyzer",)}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Row:
    policy: str
    body: Any = None
    ok: int | None = None  # the success status, when it is not the route's documented one
    setup: tuple[str, ...] = field(default=())  # what the resource needs before the call
    headers: dict[str, str] = field(default_factory=dict)


TEXT_ITEM = {"type": "text", "title": "Matrix item", "body": "Some text"}
FILE = {"filename": "matrix.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay"}
FILE_DATA = b"0123456789"

RATED = ("upload", "complete", "stored", "rated")  # the built-in analyzer has rated it (db_ready)

ROUTES: dict[tuple[str, str], Row] = {
    ("GET", "/health"): Row("open"),
    ("GET", "/openapi.json"): Row("open"),
    ("GET", "/docs"): Row("open"),
    ("GET", "/redoc"): Row("open"),
    ("GET", "/docs-assets/{name}"): Row("open"),
    ("GET", "/"): Row("open"),
    ("GET", "/console/config.json"): Row("open"),
    ("GET", "/console/{version}/{name}"): Row("open"),
    ("GET", "/pages"): Row("open"),
    ("POST", "/pages"): Row("editor", {"title": "Matrix page", "items": [TEXT_ITEM]}),
    ("GET", "/pages/{page_id}"): Row("open"),
    ("PATCH", "/pages/{page_id}"): Row("editor", {"title": "Matrix page, renamed"}),
    ("DELETE", "/pages/{page_id}"): Row("editor"),
    ("POST", "/pages/{page_id}/items"): Row("editor", TEXT_ITEM),
    ("GET", "/pages/{page_id}/items/{item_id}"): Row("open"),
    ("GET", "/pages/{page_id}/items/{item_id}/text/{field}"): Row("open", ok=200),  # a short text: inline
    ("PATCH", "/pages/{page_id}/items/{item_id}"): Row("editor", {"title": "Renamed item"}),
    ("DELETE", "/pages/{page_id}/items/{item_id}"): Row("editor"),
    ("PUT", "/pages/{page_id}/order"): Row("editor", "ITEM_IDS"),
    ("POST", "/files"): Row("uploader", FILE),
    ("GET", "/files"): Row("uploader"),
    ("GET", "/files/{file_id}"): Row("owner"),
    ("POST", "/files/{file_id}/parts"): Row("owner", {"part_numbers": [1]}),
    ("GET", "/files/{file_id}/parts"): Row("owner"),
    ("POST", "/files/{file_id}/complete"): Row("owner", "UPLOADED_PARTS", setup=("upload",)),
    ("DELETE", "/files/{file_id}/upload"): Row("owner"),
    ("GET", "/files/{file_id}/download"): Row("owner", setup=("upload", "complete", "stored")),
    ("GET", "/files/{file_id}/refer"): Row("owner", setup=("upload", "complete", "stored")),
    ("POST", "/files/{file_id}/refer"): Row("owner", ok=200, setup=("upload", "complete", "stored")),
    ("PATCH", "/files/{file_id}"): Row("owner", {"target_audience": "12+"}),
    ("POST", "/files/{file_id}/analysis"): Row("owner", setup=RATED),
    ("GET", "/files/{file_id}/text"): Row("owner", setup=RATED),
    ("GET", "/files/{file_id}/comments"): Row("owner_or_analyzer"),
    ("POST", "/files/{file_id}/comments"): Row("owner_or_analyzer", {"text": "Matrix comment", "severity": "mild"}),
    ("GET", "/files/{file_id}/recommendation"): Row("owner"),
    ("POST", "/files/{file_id}/recommendation"): Row("owner", {"text": "Matrix conclusion"}),
    ("GET", "/files/{file_id}/report"): Row("owner", setup=RATED),
    ("GET", "/download/{refer_key}"): Row("analyzer"),
    ("POST", "/download/{refer_key}"): Row("analyzer", "RESULT", setup=("downloaded",)),
    ("POST", "/download/{refer_key}/result-upload"): Row("analyzer", {"size": 1000}, setup=("downloaded",)),
    ("POST", "/download/{refer_key}/result-upload/{upload_id}"): Row("analyzer", setup=("downloaded", "result-upload")),
    ("GET", "/violations"): Row("signed_in"),
    ("POST", "/violations"): Row("editor", "NEW_VIOLATION"),
    ("GET", "/violations/{violation_id}"): Row("signed_in"),
    ("PUT", "/violations/{violation_id}"): Row("editor", "VIOLATION"),
    ("DELETE", "/violations/{violation_id}"): Row("editor"),
    ("POST", "/violations/import"): Row("editor", "WORKBOOK"),
    ("GET", "/violations/export"): Row("editor", headers={"Accept": XLSX}),
    ("POST", "/bulk-uploads"): Row("uploader", {"name": "Matrix task", "items": [{**FILE, "account": "matrix"}]}),
    ("GET", "/bulk-uploads"): Row("uploader"),
    ("GET", "/bulk-uploads/{task_id}"): Row("owner"),
    ("GET", "/bulk-uploads/{task_id}/logs"): Row("owner"),
    ("GET", "/bulk-uploads/{task_id}/report"): Row("owner"),
    ("POST", "/bulk-uploads/{task_id}/accounts/{account}/retry"): Row("owner", {"items": []}),
    ("POST", "/bulk-uploads/{task_id}/accounts/{account}/cancel"): Row("owner"),
}
VIOLATION = {"name": "Matrix category", "context": "", "ages": ["12+", "16+"], "labelling": None,
             "factors": [], "basis": "", "lexicons": []}


def route_table(app: Any) -> list[tuple[str, str, Any]]:
    return [(method, path, entry.view_function.kadr_spec)
            for path, methods in sorted(app.routes.items()) for method, entry in sorted(methods.items())]


class Resources:
    """Fresh pages and files for each cell; files belong to the caller (own) or another uploader."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.other_uploader = {"Authorization": f"Bearer {issue_token('matrix-other-uploader', 'uploader')}"}
        self.pages: list[str] = []

    def page(self) -> dict[str, Any]:
        page = self.api.create_page("Matrix page", [TEXT_ITEM, {**TEXT_ITEM, "title": "Second"}])
        self.pages.append(page["id"])
        return page

    def clean_up(self) -> None:
        """A smaller pages table keeps moto's transactions (it copies the table per call) quick."""
        for page_id in self.pages:
            self.api.delete(f"/pages/{page_id}", role="admin")

    def file(self, headers: dict[str, str], setup: tuple[str, ...]) -> dict[str, Any]:
        created = self.api.call("POST", "/files", json=FILE, headers=headers)
        assert created.status_code == 201, created.text
        file = created.json()
        if "upload" in setup:
            signed = self.api.call("POST", f"/files/{file['id']}/parts", json={"part_numbers": [1]}, headers=headers)
            part = signed.json()["parts"][0]
            put = requests.put(part["url"], data=FILE_DATA, headers=part["headers"], timeout=60)
            assert put.status_code == 200, put.text
            file["parts"] = [{"part_number": 1, "etag": put.headers["ETag"]}]
        if "complete" in setup:
            done = self.api.call("POST", f"/files/{file['id']}/complete", json={"parts": file["parts"]},
                                 headers=headers)
            assert done.status_code == 200, done.text
        if "stored" in setup:
            self._wait_stored(file["id"], headers, "rated" in setup)
        return file

    def task(self, headers: dict[str, str]) -> str:
        created = self.api.call("POST", "/bulk-uploads", json={"name": "Matrix task", "items": [
            {**FILE, "account": "matrix"}]}, headers=headers)
        assert created.status_code == 201, created.text
        return created.json()["id"]

    def _wait_stored(self, file_id: str, headers: dict[str, str], rated: bool = False) -> None:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = self.api.call("GET", f"/files/{file_id}", headers=headers).json()["status"]
            if status == "db_ready" if rated else status != "pending":
                return
            time.sleep(0.1)
        raise AssertionError("the uploaded file was not " + ("rated" if rated else "stored"))

    def refer_key(self, caller: dict[str, str], setup: tuple[str, ...]) -> tuple[str, dict[str, str]]:
        """A fresh stored file's key; with ``downloaded``, the caller has downloaded with it."""
        owner = headers_of(self.api, "uploader")
        file = self.file(owner, ("upload", "complete", "stored"))
        key = self.api.call("GET", f"/files/{file['id']}/refer", headers=owner).json()["key"]
        params = {"refer_key": key}
        # Callers who may not download are refused on their role alone; the resource is prepared
        # by an analyzer for them, so that only the role check can explain their answer.
        actor = caller or headers_of(self.api, "analyzer")
        if "downloaded" in setup:
            got = self.api.call("GET", f"/download/{key}", headers=actor, allow_redirects=False)
            assert got.status_code == 302, got.text
        if "result-upload" in setup:
            document = json.dumps(EXAMPLE).encode()
            slot = self.api.call("POST", f"/download/{key}/result-upload", json={"size": len(document)},
                                 headers=actor).json()
            put = requests.put(slot["url"], data=document, headers=slot["headers"], timeout=60)
            assert put.status_code == 200, put.text
            params["upload_id"] = slot["upload_id"]
        return key, params

    def violation(self) -> str:
        from chalicelib.ids import new_id

        violation_id = f"matrix.{new_id()[:12]}"
        made = self.api.call("POST", "/violations", json={"id": violation_id, **VIOLATION},
                             headers=headers_of(self.api, "editor"))
        assert made.status_code == 201, made.text
        return violation_id

    def workbook(self) -> bytes:
        exported = self.api.call("GET", "/violations/export", headers={**headers_of(self.api, "editor"),
                                                                         "Accept": XLSX})
        assert exported.status_code == 200, exported.text
        return exported.content


def headers_of(api: Api, identity: str) -> dict[str, str]:
    return {} if identity == "anonymous" else {"Authorization": f"Bearer {api.tokens[identity]}"}


def test_every_route_has_a_row_and_its_roles_match_the_table(stack: Any) -> None:
    table = route_table(stack.app)
    routed = {(method, path) for method, path, _ in table}
    assert routed - set(ROUTES) == set(), "routes without a row in the authorization matrix"
    assert set(ROUTES) - routed == set(), "rows for routes that no longer exist"
    for method, path, spec in table:
        row = ROUTES[(method, path)]
        assert spec.roles == POLICY_ROLES[row.policy], (method, path, spec.roles, row.policy)
        assert ("{file_id}" in path or "{task_id}" in path) == (row.policy in ("owner", "owner_or_analyzer")), (method, path)


def test_authorization_matrix(api: Api, stack: Any) -> None:
    resources = Resources(api)
    failures: list[str] = []
    table = route_table(stack.app)
    count = 0
    for method, path, spec in table:
        row = ROUTES.get((method, path))
        if row is None:
            failures.append(f"{method} {path}: no row in ROUTES")
            continue
        for scope, outcomes in OUTCOMES[row.policy].items():
            for identity, expected in zip(IDENTITIES, outcomes):
                headers = headers_of(api, identity)
                params: dict[str, str] = {}
                body = row.body
                if "{page_id}" in path:
                    page = resources.page()
                    params["page_id"] = page["id"]
                    params["item_id"] = page["items"][0]["id"]
                    params["field"] = "body"
                    if body == "ITEM_IDS":
                        body = {"items": [item["id"] for item in reversed(page["items"])]}
                if "{file_id}" in path:
                    creator = headers if scope == "own" and identity in ("uploader", "admin") else (
                        resources.other_uploader if scope == "foreign" else headers_of(api, "uploader"))
                    file = resources.file(creator, row.setup)
                    params["file_id"] = file["id"]
                    if body == "UPLOADED_PARTS":
                        body = {"parts": file["parts"]}
                if "{task_id}" in path:
                    creator = headers if scope == "own" and identity in ("uploader", "admin") else (
                        resources.other_uploader if scope == "foreign" else headers_of(api, "uploader"))
                    params["task_id"] = resources.task(creator)
                    params["account"] = "matrix"
                if "{refer_key}" in path:
                    _, key_params = resources.refer_key(headers if identity in ("analyzer", "admin") else {},
                                                        row.setup)
                    params.update(key_params)
                    if body == "RESULT":
                        body = EXAMPLE
                if "{name}" in path:
                    params["name"] = "app.js" if path.startswith("/console/") else "redoc.standalone.js"
                if "{version}" in path:
                    from chalicelib.console.service import version

                    params["version"] = version()
                if "{violation_id}" in path:
                    params["violation_id"] = resources.violation()
                if body == "VIOLATION":
                    body = VIOLATION
                elif body == "NEW_VIOLATION":
                    from chalicelib.ids import new_id

                    body = {"id": f"matrix.{new_id()[:12]}", **VIOLATION}
                url_path = path.format(**params)
                payload: dict[str, Any] = {"json": body} if body is not None else {}
                if body == "WORKBOOK":
                    payload = {"data": resources.workbook(), "headers": {**headers, "Content-Type": XLSX}}
                response = api.call(method, url_path, allow_redirects=False,
                                    **{"headers": {**headers, **row.headers}, **payload})
                count += 1
                if (method, path, response.status_code) == ("POST", "/pages", 201):
                    resources.pages.append(response.json()["id"])
                want = (row.ok or spec.status) if expected == OK else expected
                if response.status_code != want:
                    failures.append(f"{method} {path} [{scope}] as {identity}: {response.status_code} "
                                    f"(expected {want}) {response.text[:200]}")
                elif isinstance(expected, int):
                    assert response.json()["error"]["code"] in ("unauthorized", "forbidden", "not_found"), \
                        response.text
    resources.clean_up()
    print(f"\nauthorization matrix: {len(table)} routes x {len(IDENTITIES)} identities, {count} requests")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("identity", ["uploader", "reader"])
def test_an_unknown_file_and_a_foreign_file_answer_alike(api: Api, identity: str) -> None:
    """The 404 for another uploader's file is the same as for a file that does not exist."""
    resources = Resources(api)
    foreign = resources.file(resources.other_uploader, ())
    missing = api.get("/files/" + "0" * len(foreign["id"]), role=identity)
    theirs = api.get(f"/files/{foreign['id']}", role=identity)
    assert theirs.status_code == missing.status_code
    if identity == "uploader":
        assert theirs.status_code == 404 and theirs.json()["error"] == missing.json()["error"]

"""The violations catalog: the client's workbook as it is, all-or-nothing imports, the export's
round trip, roles, and bodies that are not workbooks (always a clean 4xx)."""
from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import openpyxl
import pytest

from chalicelib.catalog import excel
from chalicelib.catalog.models import ViolationRow
from chalicelib.catalog.rules import XLSX
from infra.stack import DEFAULT_CATALOG, ROOT
from tests.helpers import zip_archive
from tests.unit.conftest import auth

CLIENT_WORKBOOK = ROOT.parent / "shared" / "data" / "classification_events.xlsx"


def client_bytes() -> bytes:
    """Never skipped: CI has shared/ beside the repo, and a missing workbook must fail."""
    assert CLIENT_WORKBOOK.is_file(), f"the client's workbook is missing: {CLIENT_WORKBOOK}"
    return CLIENT_WORKBOOK.read_bytes()


def xlsx_headers(role: str | None = "editor", key: str = "Content-Type") -> dict[str, str]:
    headers = {key: XLSX, "Accept": XLSX}
    if role:
        headers["Authorization"] = auth(role)["Authorization"]
    return headers


def export_headers(role: str | None = "editor") -> dict[str, str]:
    headers = xlsx_headers(role)
    del headers["Content-Type"]
    return headers


def import_(http, data: bytes, role: str | None = "editor", **kwargs: Any):  # noqa: ANN001, ANN201
    return http.http.post("/violations/import", headers=xlsx_headers(role, **kwargs), body=data)


def catalog(http, role: str = "reader") -> list[dict[str, Any]]:  # noqa: ANN001
    response = http.http.get("/violations", headers=auth(role))
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    assert body["count"] == len(body["results"])
    return body["results"]


def edited(data: bytes, cells: dict[str, Any]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    for ref, value in cells.items():
        book.worksheets[0][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(rows: list[list[Any]], title: str = "Sheet") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def error_of(response) -> dict[str, Any]:  # noqa: ANN001
    return json.loads(response.body)["error"]


@pytest.fixture(autouse=True)
def empty_catalog(aws) -> None:  # noqa: ANN001
    with ViolationRow.batch_write() as batch:
        for row in ViolationRow.scan(consistent_read=True):
            batch.delete(row)


def test_the_client_workbook_loads_as_it_is(http) -> None:
    response = import_(http, client_bytes())
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"count": 58, "created": 58, "updated": 0, "unchanged": 0, "sheet": "Лист1"}
    entries = catalog(http)
    assert [e["id"] for e in entries] == [str(i) for i in range(1, 59)]
    by_id = {e["id"]: e for e in entries}
    labelled = by_id["52"]
    assert labelled["ages"] == [] and labelled["labelling"] == "Требует маркировки"
    assert labelled["name"] == "Иностранные агенты / политическая маркировка"
    assert [e["id"] for e in entries if e["labelling"]] == ["52"]
    assert by_id["1"]["ages"] == ["16+", "18+"] and by_id["5"]["ages"] == ["18+"]
    assert by_id["13"]["ages"] == ["6+", "12+", "16+"] and by_id["36"]["ages"] == ["12+", "16+", "18+"]
    assert by_id["1"]["factors"] == ["частота: низкая/высокая", "эмоциональный_контекст"]
    assert by_id["25"]["context"] == "“Пей как герой фильма”"
    text = json.dumps(entries, ensure_ascii=False)
    assert "\xa0" not in text and "  " not in text
    assert all(e["ages"] or e["labelling"] for e in entries)
    # The shipped links give every client category the lexicons that detect it.
    assert all(e["lexicons"] for e in entries) and by_id["1"]["lexicons"] == ["language.obscene"]
    assert by_id["52"]["lexicons"] == ["labelling.foreign_agent"] and by_id["1"]["basis"] is None


def test_importing_the_same_workbook_again_changes_nothing(http, clock) -> None:  # noqa: ANN001
    assert import_(http, client_bytes()).status_code == 200
    before = catalog(http)
    clock.advance(60)
    again = json.loads(import_(http, client_bytes()).body)
    assert again == {"count": 58, "created": 0, "updated": 0, "unchanged": 58, "sheet": "Лист1"}
    assert catalog(http) == before  # stamps included: nothing was written


def test_a_changed_row_updates_only_that_category(http, clock) -> None:  # noqa: ANN001
    assert import_(http, client_bytes()).status_code == 200
    clock.advance(60)
    report = json.loads(import_(http, edited(client_bytes(), {"D4": "16+"})).body)  # id 3
    assert report["updated"] == 1 and report["unchanged"] == 57
    three = next(e for e in catalog(http) if e["id"] == "3")
    assert three["ages"] == ["16+"] and three["updated_at"] > three["created_at"]


def test_a_workbook_with_one_bad_row_imports_nothing_and_names_sheet_row_and_column(http) -> None:
    bad = edited(client_bytes(), {"D31": "sixteen", "B41": "   ", "A45": "43"})  # ids 30, 40; 43 twice (rows 44, 45)
    response = import_(http, bad)
    assert response.status_code == 422, response.body
    error = error_of(response)
    assert error["code"] == "invalid_workbook_rows" and "nothing was changed" in error["message"]
    details = {(d["row"], d["column"], d["cell"]): d for d in error["details"]}
    assert set(details) == {(31, "age", "D31"), (41, "violations", "B41"), (45, "id", "A45")}
    assert all(d["sheet"] == "Лист1" for d in error["details"])
    assert "'sixteen'" in details[(31, "age", "D31")]["msg"] and "row 44" in details[(45, "id", "A45")]["msg"]
    assert catalog(http) == []


def test_an_import_keeps_what_is_there_when_it_fails(http) -> None:
    assert import_(http, client_bytes()).status_code == 200
    before = catalog(http)
    assert import_(http, edited(client_bytes(), {"E2": "x" * 5000})).status_code == 422
    assert catalog(http) == before


def test_export_then_import_is_unchanged(http) -> None:
    assert import_(http, client_bytes()).status_code == 200
    before = catalog(http)
    exported = http.http.get("/violations/export", headers=export_headers())
    assert exported.status_code == 200, exported.body
    assert exported.headers["Content-Type"] == XLSX and "violations.xlsx" in exported.headers["Content-Disposition"]
    assert excel.read(exported.body)[1] == excel.read(client_bytes())[1]
    report = json.loads(import_(http, exported.body).body)
    assert report == {"count": 58, "created": 0, "updated": 0, "unchanged": 58, "sheet": "violations"}
    assert catalog(http) == before
    header = next(openpyxl.load_workbook(io.BytesIO(exported.body), read_only=True).worksheets[0].iter_rows(
        values_only=True))
    assert header == ("id", "violations", "context", "age", "mark", "basis", "lexicons")


def test_the_export_needs_an_accept_header_for_a_binary_body(http) -> None:
    response = http.http.get("/violations/export", headers=auth("editor"))
    assert response.status_code == 400 and error_of(response)["code"] == "bad_request"


def test_a_binary_body_arrives_base64_encoded_as_on_api_gateway(http) -> None:
    """The local gateway base64-encodes a body whose lower-case content-type is a binary type, as
    API Gateway does with binaryMediaTypes; Chalice's raw_body decodes it."""
    response = import_(http, client_bytes(), key="content-type")
    assert response.status_code == 200 and json.loads(response.body)["count"] == 58


def test_the_default_workbook_is_built_from_its_source_and_loads(http) -> None:
    from infra import catalog_build

    assert not catalog_build.stale(), "run python -m infra.catalog_build"
    report = json.loads(import_(http, DEFAULT_CATALOG.read_bytes()).body)
    assert report["created"] == report["count"] >= 25
    entries = catalog(http)
    assert not any(e["id"].isdigit() for e in entries)
    assert {"violence.graphic", "language.obscene", "danger.suicide", "substances.drugs", "sex.explicit",
            "crime.depiction", "vice.gambling", "fear.horror", "hate.discrimination", "extremism",
            "family.values"} <= {e["id"] for e in entries}
    assert all(e["basis"] and e["lexicons"] for e in entries)
    assert next(e for e in entries if e["id"] == "language.obscene")["ages"] == ["18+"]
    # Client and project ids never collide: both catalogs live side by side.
    assert json.loads(import_(http, client_bytes()).body)["created"] == 58
    assert len(catalog(http)) == report["count"] + 58


def test_every_linked_lexicon_is_one_the_default_catalog_names() -> None:
    from infra import catalog_build

    known = {name for entry in catalog_build.entries() for name in entry["lexicons"]}
    links = excel.client_links()
    assert sorted(links, key=int) == [str(i) for i in range(1, 59)]
    linked = {name for link in links.values() for name in link["lexicons"]}
    assert linked <= known, linked - known
    names = {r["id"]: r["name"] for r in excel.read(client_bytes())[1]}
    assert {i: link["name"] for i, link in links.items()} == names


def test_links_apply_only_to_the_client_category_of_that_name(http) -> None:
    rows = [["id", "violations", "age"], [1, "Нецензурная лексика", "18+"], [2, "Something else", "12+"]]
    assert import_(http, workbook(rows)).status_code == 200
    assert [e["lexicons"] for e in catalog(http)] == [["language.obscene"], []]
    rows = [["id", "violations", "age", "lexicons"], [1, "Нецензурная лексика", "18+", "swearing.custom"]]
    assert import_(http, workbook(rows)).status_code == 200
    assert catalog(http)[0]["lexicons"] == ["swearing.custom"]


def test_crud_and_roles(http) -> None:
    entry = {"id": "violence.test", "name": "Тест", "ages": ["16+", "12+"], "factors": ["натуралистичность"],
             "basis": "ст. 5 ч. 3 п. 1", "lexicons": ["violence.fight"]}
    body = json.dumps(entry)
    assert http.http.post("/violations", headers={"Content-Type": "application/json"}, body=body).status_code == 401
    for role in ("reader", "uploader", "analyzer"):
        assert http.http.post("/violations", headers=auth(role), body=body).status_code == 403, role
    created = http.http.post("/violations", headers=auth("editor"), body=body)
    assert created.status_code == 201, created.body
    out = json.loads(created.body)
    assert out["ages"] == ["12+", "16+"] and out["labelling"] is None and out["context"] is None
    assert created.headers["Location"].endswith("/violations/violence.test")
    again = http.http.post("/violations", headers=auth("admin"), body=body)
    assert again.status_code == 409 and error_of(again)["code"] == "violation_exists"
    for role in ("reader", "uploader", "analyzer", "editor"):
        got = http.http.get("/violations/violence.test", headers=auth(role))
        assert got.status_code == 200 and json.loads(got.body)["name"] == "Тест", role
    assert http.http.get("/violations").status_code == 401
    assert http.http.get("/violations/violence.test").status_code == 401
    change = json.dumps({"name": "Тест 2", "labelling": "Требует маркировки"})
    for role in ("reader", "uploader", "analyzer"):
        assert http.http.put("/violations/violence.test", headers=auth(role), body=change).status_code == 403
    replaced = http.http.put("/violations/violence.test", headers=auth("editor"), body=change)
    assert replaced.status_code == 200, replaced.body
    assert json.loads(replaced.body)["ages"] == [] and json.loads(replaced.body)["labelling"] == "Требует маркировки"
    assert http.http.put("/violations/nope", headers=auth("editor"), body=change).status_code == 404
    for role in ("reader", "uploader", "analyzer"):
        assert http.http.delete("/violations/violence.test", headers=auth(role)).status_code == 403
    assert http.http.delete("/violations/violence.test").status_code == 401
    assert http.http.delete("/violations/violence.test", headers=auth("editor")).status_code == 204
    assert http.http.delete("/violations/violence.test", headers=auth("editor")).status_code == 404
    assert http.http.get("/violations/violence.test", headers=auth("reader")).status_code == 404
    for role in ("reader", "uploader", "analyzer"):
        assert import_(http, client_bytes(), role=role).status_code == 403
        assert http.http.get("/violations/export", headers=export_headers(role)).status_code == 403
    assert import_(http, client_bytes(), role=None).status_code == 401
    assert http.http.get("/violations/export", headers=export_headers(None)).status_code == 401


@pytest.mark.parametrize("change", [
    {"id": "../etc"}, {"id": "import"}, {"id": "x" * 65}, {"id": ""}, {"ages": []}, {"ages": ["15+"]},
    {"factors": ["a, b"]}, {"lexicons": ["Not A Name"]}, {"name": "x" * 201}, {"extra": 1},
])
def test_invalid_categories_are_a_422(http, change: dict[str, Any]) -> None:
    entry = {"id": "valid.id", "name": "N", "ages": ["12+"], **change}
    response = http.http.post("/violations", headers=auth("editor"), body=json.dumps(entry))
    assert response.status_code == 422, (change, response.body)


def test_an_id_that_is_not_an_id_is_a_404(http) -> None:
    for path in ("/violations/a%20b", "/violations/" + "x" * 65):
        assert http.http.get(path, headers=auth("reader")).status_code == 404


def zip_bomb() -> bytes:
    """One part that unpacks to 64 MiB of zeros (~64 KiB packed) beside a real workbook's parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(client_bytes())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            z.writestr(item, source.read(item))
        with z.open("xl/media/zeros.bin", "w") as sink:
            chunk = b"\0" * (1 << 20)
            for _ in range(64):
                sink.write(chunk)
    return out.getvalue()


def laughs() -> bytes:
    """Billion laughs in the shared strings of a real workbook."""
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY l0 "lol">{entities}]>'
           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&l9;</t></si></sst>')
    with zipfile.ZipFile(io.BytesIO(client_bytes())) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    parts["xl/sharedStrings.xml"] = xml.encode()
    return zip_archive(parts)


def broken_sheet() -> bytes:
    with zipfile.ZipFile(io.BytesIO(client_bytes())) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:3000]
    return zip_archive(parts)


@pytest.mark.parametrize("name, body, status, code", [
    ("empty", lambda: b"", 400, "invalid_workbook"),
    ("not a zip", lambda: b"id,violations,age\n1,x,18+\n", 400, "invalid_workbook"),
    ("a zip, not a workbook", lambda: zip_archive({"a.txt": b"hello"}), 400, "invalid_workbook"),
    ("too large", lambda: b"PK" + b"\0" * (excel.MAX_BYTES + 1), 413, "workbook_too_large"),
    ("zip bomb", zip_bomb, 413, "workbook_too_large"),
    ("too many parts", lambda: zip_archive({f"p{i}": b"" for i in range(excel.MAX_ENTRIES + 1)}), 413,
     "workbook_too_large"),
    ("billion laughs", laughs, 400, "invalid_workbook"),
    ("truncated sheet XML", broken_sheet, 400, "invalid_workbook"),
    ("truncated archive", lambda: client_bytes()[:5000], 400, "invalid_workbook"),
])
def test_bodies_that_are_not_workbooks_are_a_clean_4xx(http, name: str, body, status: int, code: str) -> None:  # noqa: ANN001
    response = import_(http, body())
    assert response.status_code == status, (name, response.body)
    assert error_of(response)["code"] == code, name
    assert catalog(http) == []


def test_a_body_over_the_api_limit_is_a_413(http) -> None:
    response = import_(http, b"\0" * (http_limit() + 1))
    assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large"


def http_limit() -> int:
    from chalicelib.provider import settings

    return settings().max_body_bytes


def test_a_workbook_sent_as_json_is_a_415(http) -> None:
    for content_type in ("application/json", "text/csv", None):
        headers = {**xlsx_headers()}
        del headers["Content-Type"]
        if content_type:
            headers["Content-Type"] = content_type
        response = http.http.post("/violations/import", headers=headers, body=client_bytes())
        assert response.status_code == 415, content_type
        assert error_of(response)["code"] == "unsupported_media_type"


def test_rows_and_cells_are_bounded(http) -> None:
    rows = [["id", "violations", "age"], *([i, f"n{i}", "18+"] for i in range(1, excel.MAX_ROWS + 2))]
    response = import_(http, workbook(rows))
    assert response.status_code == 422
    detail = error_of(response)["details"][0]
    assert detail["row"] == excel.MAX_ROWS + 2 and "more than" in detail["msg"]
    response = import_(http, workbook([["id", "violations", "age"], [1, "x" * 5000, "18+"]]))
    assert response.status_code == 422 and error_of(response)["details"][0]["cell"] == "B2"
    many = [["id", "violations", "age"], *([i, "n", "nope"] for i in range(1, 200))]
    assert len(error_of(import_(http, workbook(many)))["details"]) == excel.MAX_ERRORS


def test_header_problems_are_named(http) -> None:
    response = import_(http, workbook([["id", "violation", "agee"], [1, "x", "18+"]], title="Каталог"))
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert {(d["sheet"], d["row"], d["column"]) for d in details} == {("Каталог", 1, "agee"), ("Каталог", 1, "age")}
    response = import_(http, workbook([]))
    assert response.status_code == 422 and "empty" in error_of(response)["details"][0]["msg"]


def test_blank_rows_are_skipped_and_rows_are_numbered_as_excel_numbers_them(http) -> None:
    rows = [[], ["id", "violations", "age"], [], [1, "Мат", "18+"], [None, None, None], [2, "Ругань", "sixteen"]]
    response = import_(http, workbook(rows))
    assert response.status_code == 422 and error_of(response)["details"][0]["cell"] == "C6"


def test_openapi_documents_the_binary_bodies(http) -> None:
    from openapi_spec_validator import validate

    doc = json.loads(http.http.get("/openapi.json").body)
    validate(doc)
    binary = {"type": "string", "format": "binary"}
    imp = doc["paths"]["/violations/import"]["post"]
    assert imp["requestBody"]["content"] == {XLSX: {"schema": binary}}
    assert {"200", "400", "401", "403", "413", "415", "422"} <= set(imp["responses"])
    assert doc["paths"]["/violations/export"]["get"]["responses"]["200"]["content"] == {XLSX: {"schema": binary}}
    listed = doc["components"]["schemas"]["ViolationOut"]["properties"]
    assert {"id", "name", "context", "ages", "labelling", "factors", "basis", "lexicons"} <= set(listed)
    assert doc["paths"]["/violations"]["get"]["x-roles"] == ["reader", "uploader", "editor", "analyzer"]


def test_make_dev_loads_the_default_workbook_through_the_import(http) -> None:
    from infra import catalog_build
    from infra.stack import load_default_data

    load_default_data()
    assert [e["id"] for e in catalog(http)] == sorted(e["id"] for e in catalog_build.entries())


def test_text_that_looks_like_a_formula_is_exported_as_text_and_loads_back(http) -> None:
    """Found by review: `=HYPERLINK(...)` in a name became a live formula in the export."""
    evil = {"id": "evil.formula", "name": '=HYPERLINK("http://evil.example/x","click")', "context": "",
            "ages": ["18+"], "labelling": None, "factors": ["=1+2"], "basis": "", "lexicons": []}
    editor = auth("editor")
    assert http.http.post("/violations", headers=editor, body=json.dumps(evil)).status_code == 201
    exported = http.http.get("/violations/export", headers={**editor, "Accept": "*/*"})
    assert exported.status_code == 200
    sheet = zipfile.ZipFile(io.BytesIO(exported.body)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    imported = http.http.post("/violations/import", body=exported.body, headers={
        **editor, "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert imported.status_code == 200, imported.body
    again = json.loads(http.http.get("/violations/evil.formula", headers=editor).body)
    assert again["name"] == evil["name"] and again["factors"] == ["=1+2"]

"""The OpenAPI document comes from the route table and the pydantic models, and validates."""
from __future__ import annotations

from openapi_spec_validator import validate

from tests.helpers import Api


def test_document_is_valid_openapi_and_covers_every_route(api: Api, stack) -> None:
    doc = api.get("/openapi.json").json()
    validate(doc)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routed = {(path, method.lower()) for path, methods in stack.app.routes.items() for method in methods}
    assert documented == routed


def test_bodies_roles_and_errors_are_described(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    create = doc["paths"]["/pages"]["post"]
    schema = doc["components"]["schemas"][create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                                          .rsplit("/", 1)[1]]
    item_refs = {ref["$ref"].rsplit("/", 1)[1] for ref in schema["properties"]["items"]["items"]["oneOf"]}
    assert item_refs == {"VideoIn", "AudioIn", "TextIn"}
    assert create["x-roles"] == ["editor"] and {"201", "401", "403", "422"} <= set(create["responses"])
    listing = doc["paths"]["/pages"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"limit", "cursor", "title"}
    assert doc["paths"]["/pages/{page_id}"]["get"]["security"] == [{}, {"bearer": []}]


def test_viewers_and_health(api: Api) -> None:
    for path in ("/docs", "/redoc"):
        response = api.get(path)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
        assert "openapi.json" in response.text
    assert api.get("/health").json()["status"] == "ok"


def test_every_operation_documents_401_and_redirects_and_creates_document_location(api: Api) -> None:
    """Found by the fuzzer: a bad token is a 401 on open routes too, and it was undocumented there."""
    doc = api.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "401" in op["responses"], (method, path)
            for status in ("201", "302"):
                if status in op["responses"]:
                    assert op["responses"][status]["headers"]["Location"]["required"] is True, (method, path)
    assert api.get("/health", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert set(doc["paths"]["/files/{file_id}/download"]["get"]["responses"]) >= {"302", "401", "403", "404"}
    assert doc["paths"]["/pages/{page_id}"]["delete"]["responses"]["204"] == {"description": "No Content"}


def test_long_text_fields_and_their_links_are_documented(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name, field in (("TextOut", "body"), ("AudioOut", "transcript")):
        props = schemas[name]["properties"]
        assert {field, f"{field}_url", f"{field}_file_id"} <= set(props)
        assert "links the full text" in props[field]["description"]
        assert "302" in props[f"{field}_url"]["description"]
    for name, field in (("TextIn", "body"), ("AudioIn", "transcript")):
        assert "uploaded text file" in schemas[name]["properties"][f"{field}_file_id"]["description"]
    item = doc["paths"]["/pages/{page_id}/items/{item_id}"]["get"]["responses"]["200"]
    assert "ItemOut" in item["content"]["application/json"]["schema"]["$ref"]
    detail_items = schemas["PageDetail"]["properties"]["items"]["items"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in detail_items["oneOf"]} == {"VideoOut", "AudioOut", "TextOut"}
    text = doc["paths"]["/pages/{page_id}/items/{item_id}/text/{field}"]["get"]
    assert "302" in text["responses"] and text["security"] == [{}, {"bearer": []}]

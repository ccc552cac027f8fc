"""The code's shape: layers, no import cycles, one id module, one content-type registry."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.stack import ROOT

LIB = ROOT / "chalicelib"
HTTP_LAYER = {"chalicelib.http", "chalicelib.openapi"} | {
    f"chalicelib.routes.{p.stem}" for p in (LIB / "routes").glob("*.py") if p.stem != "__init__"} | {"chalicelib.routes"}
# Storage and plumbing: they may import one another, never a service.
BASE = {"chalicelib.config", "chalicelib.clock", "chalicelib.ids", "chalicelib.provider", "chalicelib.errors",
        "chalicelib.db", "chalicelib.cursor", "chalicelib.observability", "chalicelib.textstore",
        "chalicelib.status"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every module of chalicelib and the chalicelib modules it imports, at any depth of the file
    (imports inside functions count: they are the same dependency, only later)."""
    modules = {module_name(p): p for p in LIB.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("chalicelib")}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_chalicelib_has_no_import_cycle() -> None:
    assert cycle(imports()) is None


def test_nothing_below_the_http_layer_imports_it() -> None:
    offenders = {m: sorted(deps & HTTP_LAYER) for m, deps in imports().items()
                 if m not in HTTP_LAYER and deps & HTTP_LAYER}
    assert offenders == {}


def test_storage_and_plumbing_import_no_service() -> None:
    offenders = {m: sorted(deps - BASE) for m, deps in imports().items() if m in BASE and deps - BASE}
    assert offenders == {}


def test_ids_come_from_one_module() -> None:
    """The id pattern and uuid4 appear in chalicelib/ids.py only."""
    for path in LIB.rglob("*.py"):
        if path.name == "ids.py":
            continue
        text = path.read_text()
        assert "[0-9a-f]{32}" not in text and "uuid" not in text, path


def test_every_content_type_has_its_row_class_and_its_schema() -> None:
    from chalicelib.pages.content_types import row_types
    from chalicelib.pages.models import ItemRow
    from chalicelib.pages.schemas import ItemIn, item_schemas

    rows, schemas = row_types(), item_schemas()
    assert rows and set(rows) == set(schemas)
    base = set(ItemIn.model_fields)
    for name, row in rows.items():
        fields = set(schemas[name].model_fields) - base
        assert set(row.content_fields()) == fields, f"{name}: row {set(row.content_fields())} schema {fields}"
        assert not fields & set(ItemRow.get_attributes()), name


@pytest.mark.parametrize("value", ["", "0" * 31, "0" * 33, "A" * 32, "0" * 32 + "\n", 12, None, "g" * 32])
def test_an_id_is_32_lowercase_hex_digits_and_nothing_else(value: object) -> None:
    from chalicelib.ids import is_id

    assert not is_id(value)


def test_new_ids_are_ids_and_the_pydantic_type_checks_them() -> None:
    from pydantic import TypeAdapter, ValidationError

    from chalicelib.ids import Id, is_id, new_id

    made = {new_id() for _ in range(1000)}
    assert len(made) == 1000 and all(is_id(i) for i in made)
    adapter = TypeAdapter(Id)
    assert adapter.validate_python(next(iter(made))) in made
    with pytest.raises(ValidationError):
        adapter.validate_python("../etc/passwd")

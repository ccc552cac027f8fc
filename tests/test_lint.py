"""No unused imports or variables, no undefined names (pyflakes rules through ruff), no dead code."""
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


def framework_names() -> set[str]:
    """Classes and fields that pydantic and PynamoDB read by introspection: every schema's and
    table model's fields, and the classes themselves (found by subclass discovery)."""
    import app  # noqa: F401 - loads every route's module
    from pydantic import BaseModel
    from pynamodb.indexes import Index
    from pynamodb.models import Model

    import chalicelib.catalog.schemas  # noqa: F401
    import chalicelib.pages.schemas  # noqa: F401
    import chalicelib.uploads.schemas  # noqa: F401

    def walk(base: type) -> list[type]:
        return [c for sub in base.__subclasses__() for c in (sub, *walk(sub))]

    names: set[str] = set()
    for cls in walk(BaseModel):
        if cls.__module__.startswith("chalicelib"):
            names |= {cls.__name__, *cls.model_fields}
    for cls in walk(Model) + walk(Index):
        if cls.__module__.startswith("chalicelib"):
            names |= {cls.__name__, *getattr(cls, "_attributes", {})}
    return names


def test_no_dead_code(tmp_path: Path) -> None:
    """vulture over the code and its tests. Fields of schemas and table models are read by their
    frameworks; decorated entry points by Chalice and pytest; the rest of what frameworks read
    is named in tests/vulture_whitelist.py."""
    generated = tmp_path / "framework_whitelist.py"
    generated.write_text("".join(f"_.{name}\n" for name in sorted(framework_names())))
    vulture = Path(sys.executable).with_name("vulture")
    result = subprocess.run([str(vulture), "app.py", "chalicelib", "infra", "kadr_cli", "bench", "tests",
                             str(generated), "--min-confidence", "60",
                             "--ignore-decorators", "@app.*,@api.route,@pytest.fixture,@model_validator,@field_validator",
                             "--ignore-names", "Meta,index_name,projection,model_config,__getattr__,pytest_*,test_*"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

"""Build the project's default workbook from its readable source.

``python -m infra.catalog_build`` validates every entry of infra/catalog/default_catalog.json
with the API's own schema and writes infra/catalog/default_catalog.xlsx through the API's own
export, so the shipped workbook always loads (``make dev`` does; so can ``kadr violations load``).
``--check`` only tells whether the committed workbook matches its source.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).parent / "catalog" / "default_catalog.json"
WORKBOOK = SOURCE.with_suffix(".xlsx")


def entries(source: Path = SOURCE) -> list[dict[str, Any]]:
    from chalicelib.catalog.schemas import ViolationCreate

    return [ViolationCreate.model_validate(v).model_dump() for v in json.loads(source.read_text())["violations"]]


def build(source: Path = SOURCE) -> bytes:
    from chalicelib.catalog import excel

    return excel.write(entries(source))


def stale(source: Path = SOURCE, workbook: Path = WORKBOOK) -> bool:
    """Whether the workbook's content differs from what its source builds (bytes differ anyway:
    an xlsx stamps its save time)."""
    from chalicelib.catalog import excel

    return not workbook.exists() or excel.read(workbook.read_bytes())[1] != entries(source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the workbook is out of date")
    args = parser.parse_args(argv)
    if args.check:
        if stale():
            print(f"{WORKBOOK} is out of date: run python -m infra.catalog_build", file=sys.stderr)
            return 1
        return 0
    WORKBOOK.write_bytes(build())
    print(f"wrote {WORKBOOK} ({len(entries())} categories)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

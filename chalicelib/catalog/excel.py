"""The catalog as an Excel workbook: read (validated whole, bounded) and written.

Reading is bounded before openpyxl sees a byte: the body's size, the archive's entry count and
its declared unpacked size (zipfile stops at the declared size and fails the CRC past it, so a
zip bomb cannot unpack further), then openpyxl in read-only mode (rows streamed, XML through
defusedxml) over at most ``MAX_COLUMNS`` columns and ``MAX_ROWS`` rows, each cell at most
``rules.MAX_CELL`` characters. Every check is one pass over the rows: linear in the workbook.

A workbook is all or nothing: any bad row and the whole workbook is refused with every error
(up to ``MAX_ERRORS``) naming its sheet, row, column and cell.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from chalicelib.catalog import rules
from chalicelib.errors import BadRequest, PayloadTooLarge, Unprocessable

MAX_BYTES = 2 * 1024 * 1024  # the workbook as sent
MAX_UNPACKED = 32 * 1024 * 1024  # all its XML, as the archive declares it
MAX_ENTRIES = 200
MAX_ROWS = 2000  # categories per workbook
MAX_COLUMNS = 32  # columns read; any further right are not looked at
MAX_ERRORS = 50

LINKS = Path(__file__).with_name("client_links.json")

# The column a field is written to, as the client's workbook names it, then the project's.
COLUMNS = (("id", "id"), ("name", "violations"), ("context", "context"), ("age", "age"),
           ("factors", "mark"), ("basis", "basis"), ("lexicons", "lexicons"))
HEADERS = {
    "id": "id",
    "violations": "name", "violation": "name", "name": "name", "нарушение": "name", "нарушения": "name",
    "context": "context", "контекст": "context",
    "age": "age", "ages": "age", "возраст": "age",
    "mark": "factors", "factors": "factors", "факторы": "factors",
    "basis": "basis", "основание": "basis",
    "lexicons": "lexicons", "лексиконы": "lexicons",
}
REQUIRED = ("id", "name", "age")
# A field's errors are reported at the column it came from.
FIELD_COLUMN = {"id": "id", "name": "name", "context": "context", "ages": "age", "labelling": "age",
                "factors": "factors", "basis": "basis", "lexicons": "lexicons"}


class _Errors:
    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, column: str | None, msg: str, letter: str | None = None) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"sheet": self.sheet, "row": row, "column": column,
                               "cell": f"{letter}{row}" if letter else None, "msg": msg})

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS

    def raise_if_any(self) -> None:
        if self.items:
            more = " (the first 50)" if self.full else ""
            raise Unprocessable(f"the workbook was not imported: {len(self.items)} error(s){more}; nothing was "
                                "changed", self.items, code="invalid_workbook_rows")


def _check_archive(data: bytes) -> None:
    if not data:
        raise BadRequest("the body is empty: send the .xlsx workbook as the request body", code="invalid_workbook")
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"the workbook is {len(data)} bytes; the limit is {MAX_BYTES}", code="workbook_too_large")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise BadRequest("the body is not an .xlsx workbook (not a zip archive)", code="invalid_workbook") from None
    if len(entries) > MAX_ENTRIES:
        raise PayloadTooLarge(f"the workbook has {len(entries)} parts; the limit is {MAX_ENTRIES}",
                              code="workbook_too_large")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > MAX_UNPACKED:
        raise PayloadTooLarge(f"the workbook unpacks to {unpacked} bytes; the limit is {MAX_UNPACKED}",
                              code="workbook_too_large")
    if not any(e.filename == "xl/workbook.xml" for e in entries):
        raise BadRequest("the body is a zip archive but not an .xlsx workbook", code="invalid_workbook")


def _cell_text(value: Any) -> str | None:
    """A cell as text; raises ValueError for what is not text or a whole number."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > rules.MAX_CELL:
            raise ValueError(f"longer than {rules.MAX_CELL} characters")
        return value
    if isinstance(value, bool):
        raise ValueError("expected text, found TRUE/FALSE")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (datetime, date, time)):
        raise ValueError("expected text, found a date or time")
    raise ValueError(f"expected text, found {type(value).__name__}")


@lru_cache(maxsize=1)
def client_links() -> dict[str, dict[str, Any]]:
    """The client workbook's ids -> their name and the default catalog's lexicons that detect them."""
    return json.loads(LINKS.read_text(encoding="utf-8"))["links"]


def _linked_lexicons(record: dict[str, Any]) -> list[str]:
    link = client_links().get(record.get("id") or "")
    name = record.get("name")
    if link and isinstance(name, str) and rules.clean(name).casefold() == rules.clean(link["name"]).casefold():
        return list(link["lexicons"])
    return []


def _header(values: tuple[Any, ...], row: int, errors: _Errors) -> dict[str, int]:
    from openpyxl.utils import get_column_letter

    columns: dict[str, int] = {}
    for index, value in enumerate(values):
        try:
            text = rules.clean(_cell_text(value) or "")
        except ValueError as exc:
            errors.add(row, None, f"header: {exc}", get_column_letter(index + 1))
            continue
        if not text:
            continue
        field = HEADERS.get(text.casefold())
        if field is None:
            errors.add(row, text, f"unknown column {text!r}; the columns are "
                       f"{', '.join(name for _, name in COLUMNS)}", get_column_letter(index + 1))
        elif field in columns:
            errors.add(row, text, f"column {text!r} appears twice", get_column_letter(index + 1))
        else:
            columns[field] = index
    for field in REQUIRED:
        if field not in columns:
            errors.add(row, dict(COLUMNS)[field], f"the header row has no {dict(COLUMNS)[field]!r} column")
    return columns


def _record(values: tuple[Any, ...], row: int, columns: dict[str, int], names: dict[str, str],
            errors: _Errors) -> dict[str, Any] | None:
    from openpyxl.utils import get_column_letter

    cells: dict[str, str | None] = {}
    ok = True
    for field, index in columns.items():
        try:
            cells[field] = _cell_text(values[index] if index < len(values) else None)
        except ValueError as exc:
            errors.add(row, names[field], str(exc), get_column_letter(index + 1))
            ok = False
    if not ok:
        return None
    record: dict[str, Any] = {"id": cells["id"], "name": cells["name"], "context": cells.get("context")}
    ages, duties, bad = rules.split_age_cell(cells["age"] or "")
    if bad or len(duties) > 1:
        what = (f"{', '.join(repr(b) for b in bad)}: not an age ({', '.join(rules.AGES)}) nor a labelling duty "
                "such as 'Требует маркировки'") if bad else "more than one labelling duty"
        errors.add(row, names["age"], what, get_column_letter(columns["age"] + 1))
        return None
    record["ages"], record["labelling"] = ages, (duties[0] if duties else None)
    record["factors"] = rules.split_list(cells.get("factors") or "")
    record["basis"] = cells.get("basis")
    if "lexicons" in columns:
        record["lexicons"] = [rules.clean(x) for x in (cells["lexicons"] or "").replace(";", ",").split(",")
                              if rules.clean(x)]
    else:
        record["lexicons"] = _linked_lexicons(record)
    return record


def _validate(record: dict[str, Any], row: int, columns: dict[str, int], names: dict[str, str],
              errors: _Errors) -> dict[str, Any] | None:
    from openpyxl.utils import get_column_letter
    from pydantic import ValidationError

    from chalicelib.catalog.schemas import ViolationCreate

    try:
        return ViolationCreate.model_validate(record).model_dump()
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False, include_context=False):
            field = FIELD_COLUMN.get(str(error["loc"][0]) if error["loc"] else "ages", "age")
            index = columns.get(field)
            where = "".join(f"[{p}]" for p in error["loc"][1:]) if len(error["loc"]) > 1 else ""
            errors.add(row, names.get(field, field), f"{error['msg']}{where}",
                       get_column_letter(index + 1) if index is not None else None)
        return None


def read(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The workbook's first sheet as validated catalog entries, in the sheet's order."""
    _check_archive(data)
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - openpyxl fails in many ways on a bad archive; all are the client's
        raise BadRequest("the body is not a readable .xlsx workbook", code="invalid_workbook") from None
    try:
        if not book.worksheets:
            raise Unprocessable("the workbook has no worksheet", code="invalid_workbook_rows")
        sheet = book.worksheets[0]
        return sheet.title, _rows(sheet.title, _guarded(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)))
    finally:
        book.close()


def _guarded(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """A read-only sheet parses as it is iterated: broken XML shows up here, as the client's 400."""
    iterator = iter(rows)
    while True:
        try:
            values = next(iterator)
        except StopIteration:
            return
        except Exception:  # noqa: BLE001 - openpyxl and the XML parser fail in many ways
            raise BadRequest("the workbook's sheet cannot be read", code="invalid_workbook") from None
        yield values


def _rows(sheet: str, rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    errors = _Errors(sheet)
    columns: dict[str, int] | None = None
    names: dict[str, str] = {}
    header_values: tuple[Any, ...] = ()
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, values in enumerate(rows, start=1):
        if all(v is None or (isinstance(v, str) and not rules.clean(v)) for v in values):
            continue
        if columns is None:
            header_values = values
            columns = _header(values, number, errors)
            names = {f: rules.clean(str(header_values[i])) for f, i in columns.items()}
            if errors.items:
                break
            continue
        if len(records) + 1 > MAX_ROWS:
            errors.add(number, None, f"more than {MAX_ROWS} rows; split the workbook")
            break
        record = _record(values, number, columns, names, errors)
        if record is not None:
            valid = _validate(record, number, columns, names, errors)
            if valid is not None:
                if valid["id"] in seen:
                    errors.add(number, names["id"], f"id {valid['id']!r} is already used in row {seen[valid['id']]}",
                               _letter(columns["id"]))
                seen[valid["id"]] = number
                records.append(valid)
        if errors.full:
            break
    if columns is None:
        errors.add(1, None, "the sheet is empty: expected a header row (id, violations, context, age, mark)")
    errors.raise_if_any()
    return records


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def write(entries: Iterable[dict[str, Any]], sheet: str = "violations") -> bytes:
    """The catalog as a workbook that ``read`` loads back unchanged."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([name for _, name in COLUMNS])
    for entry in entries:
        ident = entry["id"]
        ws.append([int(ident) if ident.isdigit() and len(ident) <= 15 else ident, entry["name"], entry.get("context"),
                   rules.age_cell(entry.get("ages") or [], entry.get("labelling")),
                   ", ".join(entry.get("factors") or []), entry.get("basis"), ", ".join(entry.get("lexicons") or [])])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (18, 40, 48, 20, 48, 40, 48)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.data_type == "f":  # text that begins with "=" is data, never a formula to run
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

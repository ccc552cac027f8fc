"""The completion report as CSV or an Excel workbook: one row per item."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from chalicelib.bulk.service import REPORT_COLUMNS

CSV = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Excel in a locale whose list separator is ";" (Russian) splits "a;=HYPERLINK(…)" into two cells.
_INNER_FORMULA = re.compile(r"([,;\t])(?=[=+\-@])")


def _cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP's
    CSV-injection advice), and so does every part of it after a list separator; file names are the
    uploader's text."""
    if not isinstance(value, str):
        return "" if value is None else value
    value = _INNER_FORMULA.sub(r"\1'", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in REPORT_COLUMNS])
    return out.getvalue()


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "report"
    ws.append(list(REPORT_COLUMNS))
    for row in rows:
        ws.append([row[c] for c in REPORT_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            if cell.data_type == "f":  # text that begins with "=" is data, never a formula to run
                cell.data_type = "s"
    for letter, width in zip("ABCDEFGHIJ", (7, 18, 36, 34, 11, 11, 16, 50, 66, 9)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""The report as an Excel workbook a reviewer reads: a summary sheet, every finding by scene,
what exceeds the target, and what each qualifier used means. openpyxl's write-only mode streams rows (20,000 findings stay small)."""
from __future__ import annotations

import io
import re
from typing import Any

from chalicelib.review import rules

FINDING_COLUMNS = ("scene", "scene_label", "heading", "line", "category", "category_name", "severity", "age",
                   "ai_severity", "qualifiers", "excerpt", "basis", "advice", "id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for spreadsheet (CSV) injection
# Control characters XML 1.0 cannot hold (openpyxl raises on them): an analyzer's excerpt may carry them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


CELL_MAX = 1000  # characters a cell shows (basis, advice, headings): bounds the workbook's size and time


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as text (a leading apostrophe);
    characters a worksheet cannot hold become U+FFFD (they would fail the whole workbook)."""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, str):
        value = value if len(value) <= CELL_MAX else value[:CELL_MAX - 1] + "…"
        value = _ILLEGAL.sub("\ufffd", value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def write(report: dict[str, Any], findings: list[dict[str, Any]]) -> bytes:
    """``report`` is ``report.render``'s body; ``findings`` every effective finding (not the
    report's capped list)."""
    from openpyxl import Workbook

    target = report.get("target_audience")
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    for label, value in (("File", report.get("filename")), ("File id", report["file_id"]),
                         ("Rating", report["rating"]), ("AI rating", report["ai_rating"]),
                         ("Target audience", target or "none"), ("Exceeds target", "yes" if report["exceeds_target"] else "no"),
                         ("Labelling", report["labelling"]), ("Findings", len(findings)),
                         ("Overridden by people", report["counts"]["overridden"]), ("Rated at", report.get("rated_at"))):
        summary.append([label, _cell(value)])
    summary.append([])
    summary.append(["Category", "Name", "Severity", "Age", "Findings"])
    for c in report["categories"]:
        summary.append([_cell(c["category"]), _cell(c["name"]), c["severity"], c["age"], c["findings"]])
    ordered = sorted(findings, key=lambda f: (f["scene"] if f.get("scene") is not None else 1 << 30,
                                              f.get("line") or 0, f["category"]))
    by_scene = book.create_sheet("Findings by scene")
    by_scene.append(list(FINDING_COLUMNS))
    for f in ordered:
        by_scene.append([_cell(f.get(c)) for c in FINDING_COLUMNS])
    over = book.create_sheet("Exceedances")
    over.append(["scene", "scene_label", "line", "category_name", "severity", "age", "target", "excerpt", "advice",
                 "id"])
    for f in ordered:
        if rules.exceeds(f.get("age"), target):
            over.append([f.get("scene"), _cell(f.get("scene_label")), f.get("line"), _cell(f.get("category_name")),
                         f["severity"], f.get("age"), target, _cell(f.get("excerpt")),
                         _cell(rules.advice(f, target)),
                         f["id"]])
    legend = book.create_sheet("Qualifiers")  # why a finding has its severity and age
    legend.append(["qualifier", "meaning", "findings"])
    meaning = rules.qualifier_meanings(findings)
    used: dict[str, int] = {}
    for f in findings:
        for q in f.get("qualifiers") or ():
            used[q] = used.get(q, 0) + 1
    for q in sorted(used, key=lambda q: (q not in meaning, q)):
        legend.append([_cell(q), _cell(meaning.get(q, "named by the analyzer that posted the finding")), used[q]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

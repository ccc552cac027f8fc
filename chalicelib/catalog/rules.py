"""What a catalog entry may hold, shared by the JSON schemas and the Excel reader.

No pydantic or openpyxl here: ``app.py`` reads ``XLSX`` at import, and cold starts stay light.
"""
from __future__ import annotations

import re

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A workbook's own ids ("12") or the project's ("violence.graphic"): letters, digits, '.', '_', '-'.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Paths under /violations that are routes, never ids.
RESERVED_IDS = frozenset({"import", "export"})
LEXICON_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
AGES = ("0+", "6+", "12+", "16+", "18+")

MAX_NAME = 200
MAX_TEXT = 1000  # context, basis
MAX_ITEM = 200  # one factor, the labelling duty
MAX_ITEMS = 50  # factors, lexicons per entry
MAX_CELL = 4000  # any cell of an imported workbook

_SPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_AGE = re.compile(r"^(\d{1,2})\s*\+$")
# "Требует маркировки", "маркировка", "requires labelling": a labelling duty, not an age.
_LABELLING = re.compile(r"маркир|labell?ing", re.IGNORECASE)
LIST_SEPARATORS = re.compile(r"[,;]")


def clean(text: str) -> str:
    """One space for every run of whitespace (non-breaking and zero-width ones too), trimmed."""
    return _SPACE.sub(" ", text).strip()


def age_rank(age: str) -> int:
    return AGES.index(age)


def split_age_cell(text: str) -> tuple[list[str], list[str], list[str]]:
    """``"6+ / 12+ / 16+"`` -> ages; ``"Требует маркировки"`` -> a labelling duty.

    Returns (ages, labelling duties, tokens that are neither)."""
    ages: list[str] = []
    duties: list[str] = []
    bad: list[str] = []
    for raw in re.split(r"[/,;]", text):
        token = clean(raw)
        if not token:
            continue
        match = _AGE.match(token)
        if match and f"{int(match.group(1))}+" in AGES:
            ages.append(f"{int(match.group(1))}+")
        elif _LABELLING.search(token):
            duties.append(token)
        else:
            bad.append(token)
    return ages, duties, bad


def age_cell(ages: list[str], labelling: str | None) -> str:
    """The inverse of ``split_age_cell``: what the export writes."""
    return " / ".join([*ages, *([labelling] if labelling else [])])


def split_list(text: str) -> list[str]:
    return [item for item in (clean(part) for part in LIST_SEPARATORS.split(text)) if item]


def natural_key(violation_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order ("2" before "10"), then the others alphabetically."""
    return (0, int(violation_id), "") if violation_id.isdigit() else (1, 0, violation_id)

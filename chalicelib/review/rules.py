"""Pure rules of the rating service: which catalog category an analyzer's name means, what a
finding row holds, people's overrides, the final rating and what exceeds a target. No AWS.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.ids import derived_id
from chalicelib.rating.model import AGES, SEVERITIES, Category, age_for, highest_age

BUILTIN_SUB = "kadr-analyzer"  # the built-in analyzer's principal (its token `sub`)
BUILTIN_NAME = "kadr-builtin"
EXCERPT_MAX = 500  # characters of an excerpt kept in a finding row
COMMENT_MAX = 1000  # characters of an analyzer's comment on a finding kept in its row
_TOKENS = re.compile(r"[^\w]+|_")


def age_rank(age: str | None) -> int:
    """-1 for no age; else the age's place in 0+ < 6+ < 12+ < 16+ < 18+."""
    return AGES.index(age) if age in AGES else -1


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def exceeds(age: str | None, target: str | None) -> bool:
    return target is not None and age_rank(age) > age_rank(target)


# ---------------------------------------------------------------- categories

def _tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in _TOKENS.split(name.casefold()) if t)


def _broadness(c: Category) -> tuple[int, int, str]:
    return min((age_rank(a) for a in c.ages), default=len(AGES)), -len(c.ages), c.id


class Catalog:
    """Looks up the catalog category an analyzer's category name means: the id itself, the name
    (case-insensitively), the same words in another order or separator (``obscene_language`` is
    ``language.obscene``), a lexicon the category links, or a family (``violence`` → its
    broadest ``violence.*``: the one that starts at the youngest age). None when nothing matches: the finding keeps the analyzer's name."""

    def __init__(self, categories: Sequence[Category]) -> None:
        self.categories = list(categories)
        self._by_id = {c.id: c for c in self.categories}
        self._by_name: dict[str, Category] = {}
        self._by_tokens: dict[frozenset[str], Category] = {}
        self._by_lexicon: dict[str, Category] = {}
        self._by_family: dict[str, Category] = {}
        for c in self.categories:
            self._by_name.setdefault(c.name.casefold().strip(), c)
            self._by_tokens.setdefault(_tokens(c.id), c)
            for lexicon in c.lexicons:
                self._by_lexicon.setdefault(lexicon, c)
            family = c.id.split(".", 1)[0].casefold() if "." in c.id else None
            if family and (family not in self._by_family or _broadness(c) < _broadness(self._by_family[family])):
                self._by_family[family] = c

    def find(self, name: str) -> Category | None:
        if name in self._by_id:
            return self._by_id[name]
        folded = name.casefold().strip()
        return (self._by_name.get(folded) or self._by_tokens.get(_tokens(name)) or self._by_lexicon.get(folded)
                or self._by_family.get(folded) or self._by_family.get(next(iter(sorted(_tokens(name))), "")))


# ---------------------------------------------------------------- findings from a result document

def _scene(value: Any, label: str | None) -> tuple[int | None, str]:
    """(1-based index or None, label). An int is the reader's index; a string is the script's
    number (its index too when it is all digits, as the reader numbers unnumbered scenes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, label or str(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return (int(text) if text.isdigit() and len(text) < 9 else None), label or text
    return None, label or ""


def finding_items(file_id: str, analyzer: str, document: Mapping[str, Any], catalog: Catalog,
                  stamp: str) -> list[dict[str, Any]]:
    """The finding rows one result document yields (attribute dicts of ``FindingItem``).

    Ids are derived from (file, analyzer, category, scene, line, n-th such): the same document
    gives the same ids, and a re-analysis that finds the same thing keeps its id, so people's
    comments on it stay attached."""
    items: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for finding in document.get("findings", []):
        category = catalog.find(str(finding["category"]))
        severity = finding["severity"]
        scene, label = _scene(finding.get("scene"), finding.get("scene_label"))
        ages = list(category.ages) if category else ([finding["age"]] if finding.get("age") else [])
        age = finding.get("age") or age_for(severity, ages)
        if severity == "none":
            age = None
        key = (category.id if category else finding["category"], scene if scene is not None else label,
               finding.get("line"))
        seen[key] = seen.get(key, 0) + 1
        items.append({
            "id": derived_id(file_id, analyzer, *key, seen[key]),
            "analyzer": analyzer,
            "category": category.id if category else str(finding["category"]),
            "category_name": category.name if category else str(finding["category"]),
            "severity": severity, "age": age, "ages": ages,
            "basis": finding.get("basis") or (category.basis if category else "") or "",
            "qualifiers": list(finding.get("qualifiers") or []),
            "scene": scene, "scene_label": label, "heading": finding.get("scene_heading") or "",
            "line": finding.get("line"), "excerpt": (finding.get("excerpt") or "")[:EXCERPT_MAX],
            "evidence": int(finding.get("evidence") or 1),
            "labelling": category.labelling if category else None,
            "advice": finding.get("advice") or "", "comment": (finding.get("comment") or "")[:COMMENT_MAX],
            "written_at": stamp,
        })
    return items


# ---------------------------------------------------------------- people's overrides and the rating

@dataclass(frozen=True)
class Override:
    severity: str
    comment_id: str
    author: str


def overrides(comments: Iterable[Mapping[str, Any]]) -> dict[str, Override]:
    """finding id → the latest person's severity for it (comments come in time order). A person's
    severity wins over the analyzer's; an analyzer's comment never overrides."""
    found: dict[str, Override] = {}
    for c in comments:
        if c.get("source") == "user" and c.get("finding_id") and c.get("severity"):
            found[c["finding_id"]] = Override(c["severity"], c["id"], c["author"])
    return found


def effective(finding: Mapping[str, Any], override: Override | None) -> dict[str, Any]:
    """The finding as the report shows it: with a person's severity, its age follows the same
    catalog ages the analyzer's did."""
    out = dict(finding)
    if override is None or override.severity == finding["severity"]:
        return out
    out["ai_severity"], out["ai_age"] = finding["severity"], finding.get("age")
    out["severity"] = override.severity
    out["age"] = None if override.severity == "none" else (age_for(override.severity, finding.get("ages") or ())
                                                          or finding.get("age"))
    out["overridden_by"] = {"comment_id": override.comment_id, "author": override.author}
    return out


def rating(findings: Iterable[Mapping[str, Any]]) -> str:
    return highest_age(f.get("age") for f in findings)


SEVERITY_RU = {"none": "нет", "mild": "слабая", "moderate": "умеренная", "severe": "сильная"}


def advice(finding: Mapping[str, Any], target: str | None) -> str:
    """The analyzer's advice, else a plain one (in the studio's language) naming what to change."""
    given = finding.get("advice") or ""
    if given:
        return given
    where = f"Сцена {finding.get('scene_label') or finding.get('scene') or '?'}"
    name = finding.get("category_name") or finding.get("category")
    if list(finding.get("ages") or []) == ["18+"]:
        return f"{where}: убрать «{name}»: это 18+ при любой подаче (436-ФЗ, ст. 5 ч. 2)."
    goal = f"уложиться в {target}" if target else "снизить возрастную оценку"
    return (f"{where}: смягчить «{name}» (сейчас {SEVERITY_RU.get(finding.get('severity', ''), '?')}, "
            f"{finding.get('age')}): меньше подробностей и повторов, без одобрения, чтобы {goal}.")


def qualifier_meanings(findings: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """What each qualifier the findings carry means (the engine's own; another analyzer's stay unexplained)."""
    from chalicelib.rating.engine import rules as engine_rules

    known = engine_rules().qualifier_meaning
    used = {q for f in findings for q in f.get("qualifiers") or () if q in known}
    return {q: known[q] for q in sorted(used)}

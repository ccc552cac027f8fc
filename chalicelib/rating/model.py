"""What a rating is made of. Severities and ages live here and nowhere else in the rating."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("none", "mild", "moderate", "severe")
AGES = ("0+", "6+", "12+", "16+", "18+")
NO_AGE = "0+"


@dataclass(frozen=True, slots=True)
class Category:
    """A catalog entry as the rating reads it."""

    id: str
    name: str
    ages: tuple[str, ...]
    labelling: str | None = None
    basis: str | None = None
    lexicons: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Category:
        return cls(id=entry["id"], name=entry["name"], ages=tuple(entry.get("ages") or ()),
                   labelling=entry.get("labelling"), basis=entry.get("basis"),
                   lexicons=tuple(entry.get("lexicons") or ()), factors=tuple(entry.get("factors") or ()))


@dataclass(frozen=True, slots=True)
class Finding:
    """One category in one scene: its strongest line stands for it; ``evidence`` counts the hits."""

    category: str
    category_name: str
    severity: str
    age: str | None  # None for severity "none" and for a labelling duty without ages
    basis: str
    qualifiers: tuple[str, ...]
    scene: int  # the reader's scene index (1-based)
    scene_label: str
    line: int
    excerpt: str
    evidence: int = 1
    labelling: str | None = None
    advice: str = ""  # what would have to change for this finding to fall below its age
    family: str = ""  # the rules' family of the category's hits ("violence", "drugs", ...)
    terms: tuple[str, ...] = ()  # the lexicon terms that matched (distinct, strongest first, at most 8)
    lines: tuple[int, ...] = ()  # every line with a counted hit (at most 50)
    source: str = ""  # "studio" (a loaded client workbook's category) or "project" (the default catalog)
    ages: tuple[str, ...] = ()  # the category's age range, lowest first

    def to_dict(self) -> dict[str, Any]:
        return {name: (list(value) if isinstance(value, tuple) else value)
                for name, value in ((n, getattr(self, n)) for n in self.__slots__)}


@dataclass(slots=True)
class Rating:
    rating: str
    findings: list[Finding] = field(default_factory=list)
    labelling: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: what the analyzer posts and the report reads."""
        return {"rating": self.rating, "labelling": list(self.labelling),
                "findings": [f.to_dict() for f in self.findings]}


def exceedances(findings: Iterable[Finding], target: str | None) -> list[Finding]:
    """The findings whose age is above the target audience (``"12+"``); none without a target."""
    if not target or target not in AGES:
        return []
    limit = AGES.index(target)
    return [f for f in findings if f.age and AGES.index(f.age) > limit]


def target_advice(finding: Finding, target: str | None) -> str:
    """What would have to change for this finding to meet a target audience ("" when it does)."""
    if not target or target not in AGES or not finding.age or AGES.index(finding.age) <= AGES.index(target):
        return ""
    lowest = min(finding.ages, key=AGES.index) if finding.ages else finding.age
    advice = f"Для {target}: {finding.advice[:1].lower()}{finding.advice[1:]}" if finding.advice else f"Для {target}:"
    if AGES.index(lowest) > AGES.index(target):
        advice += (f" Категория «{finding.category_name}» начинается с {lowest}: смягчить недостаточно, "
                   "эпизод нужно убрать.")
    return advice


def age_for(severity: str, ages: Iterable[str]) -> str | None:
    """Mildest → the lowest listed age, severe → the highest, moderate → the middle one."""
    listed = sorted(set(ages), key=AGES.index)
    if severity == "none" or not listed:
        return None
    index = {"mild": 0, "moderate": len(listed) // 2, "severe": len(listed) - 1}[severity]
    return listed[min(index, len(listed) - 1)]


def highest_age(ages: Iterable[str | None]) -> str:
    """The file's rating: the highest age among its findings, 0+ when none."""
    return max((a for a in ages if a), key=AGES.index, default=NO_AGE)

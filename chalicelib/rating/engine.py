"""From a read document and the catalog to a rating: findings with severity, age, basis, qualifiers.

One finding is one category in one scene; its strongest line stands for it and ``evidence`` counts
its hits. The steps (the numbers are documented in docs/NOTES.md, "Rating engine"):

1. ``match`` gives every lexicon hit, the qualifier cues (``lexicons/cues.json``: ``cue.*``) too.
2. Which categories own a lexicon (``owners``): when a studio's workbook and the project's default
   catalog both link it, the studio's categories win. A project id is the default catalog's kind of
   id (lower-case Latin words joined by dots: ``violence.graphic``, ``extremism``); anything else
   (the client workbook's ``1`` … ``58``) is a studio's. A context lexicon (``people.children``)
   never makes a finding alone: a category that links it needs it near one of its other hits.
   A category whose name says "propaganda"/"sexualised" and whose lexicons all belong to other
   categories too is the promoted/sexualised variant: it takes a hit only when that condition holds.
3. Per finding, qualifiers from the cues near the hits (``QUALIFIERS``), then points: the strongest
   hit's intensity (1–3), +1 from 3 hits, +1 from 6, +1 dense, +1 naturalistic, +1 approved,
   +1/+2 minor involved, +1 pervasive; −1 condemned, −1 compassion, −1 off-screen, −1 only asked
   about. ≤1 → none, 2–3 → mild, 4 → moderate, ≥5 → severe. Approval of a clear depiction of what
   the law calls promotion (drugs, alcohol, suicide, crime, ...) is severe. Negated hits do not
   count; weak signals (a lone intensity-1 word) are not listed.
4. Age: ``age_for(severity, category.ages)``. A category the catalog puts at 18+ only needs a strong
   hit (intensity 3), moderate severity or approval; weaker evidence stays ``none`` with
   ``below_threshold``. A promotion family's 18+ needs approval, a minor or naturalism when the
   category lists a lower age (``not_promotion``), and a depiction the work condemns is not
   promotion: 18+ falls to the highest restricted age the category lists, or 16+ (art. 10).
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.gcpause import without_cycle_collection
from chalicelib.rating.model import (
    AGES,
    SEVERITIES,
    Category,
    Finding,
    Rating,
    age_for,
    highest_age,
)

RULES = Path(__file__).with_name("rules.json")
PROJECT_ID = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$")
CUE = "cue."
WEAK_APPROVAL = "cue.approved~weak"  # "cool", "попробуй": approve only two together
NEAR = 2  # lines either side of a hit where a cue counts as "near"
CONDEMN_NEAR = 4  # condemnation and consequences may come a few lines later
MAX_TERMS = 8
PERVASIVE_SCENES = 15  # in this many scenes a category is pervasive however long the script
PERVASIVE_SHARE = 1 / 3  # ... or in this share of its scenes or pages
PAGE_WORDS = 250  # words on a page of a screenplay or a play
APPROVAL_FAMILIES = frozenset({"violence", "gore", "sex"})  # approval raises these too (not "promotion")
# What makes content prohibited for children (436-FZ art. 5 part 2) rather than restricted (art. 10):
# approval or promotion, naturalism, a minor involved. Families whose very words are the prohibited
# thing (мат, step-by-step methods, explicit sexual acts at their strongest) need none of them.
PROHIBITING = frozenset({"approved", "naturalistic", "methods"})
PROHIBITED_AS_SUCH = frozenset({"obscene", "instructions", "labelling", "minors"})
# What keeps a finding at its range's top age: neither "not promotion" nor a description cap applies.
BEYOND_DEPICTION = frozenset({"approved", "minor_involved", "naturalistic", "methods"})
EXPLICIT_LEXICONS = frozenset({"sex.explicit", "sex.pornography", "sex.intercourse"})
# With a minor these make sexual content 18+ (art. 5 part 2); kisses and romance do not.
SEXUALISING_LEXICONS = frozenset({"sex.nudity"})
MAX_LINES = 50
# Qualifier names a finding may carry, in the order they are listed.
QUALIFIERS = ("negated_only", "below_threshold", "naturalistic", "approved", "condemned", "condemned_in_work", "compassion",
              "minor_involved", "offscreen", "question", "frequent", "dense", "pervasive", "episodic", "not_promotion",
              "falls_to_restricted", "spoken_only", "mild_words", "methods")
METHODS = ".methods"  # ways (3) and their details (2): a way with a detail beside it is a method described (art. 5 part 2 p. 1)
SPOKEN = "dialogue"  # the line kind of speech: what is said is described, what the action lines show is depicted


@dataclass(frozen=True)
class Rules:
    families: dict[str, dict[str, Any]]
    prefixes: tuple[tuple[str, str], ...]  # (prefix, family), longest first
    context: frozenset[str]
    stance: frozenset[str]
    generic_basis: dict[str, str]
    qualifier_advice: dict[str, str]
    qualifier_meaning: dict[str, str]  # one line per qualifier, for reports
    conditions: dict[str, tuple[str, ...]]
    by_lexicon: dict[str, str] = field(default_factory=dict)  # family() remembered per lexicon

    def family(self, lexicon: str) -> str:
        found = self.by_lexicon.get(lexicon)
        if found is None:
            found = self.by_lexicon[lexicon] = next(
                (name for prefix, name in self.prefixes
                 if lexicon == prefix or (prefix.endswith(".") and lexicon.startswith(prefix))), "")
        return found


@lru_cache(maxsize=1)
def rules() -> Rules:
    data = json.loads(RULES.read_text(encoding="utf-8"))
    prefixes = sorted(((p, name) for name, fam in data["families"].items() for p in fam["prefixes"]),
                      key=lambda item: len(item[0]), reverse=True)
    return Rules(data["families"], tuple(prefixes), frozenset(data["context_lexicons"]),
                 frozenset(data["stance_lexicons"]), data["generic_basis"],
                 data["qualifier_advice"], data["qualifier_meaning"],
                 {k: tuple(v) for k, v in data["conditions"].items()})


def source_of(category: Category) -> str:
    """``project`` for the default catalog's kind of id, ``studio`` for a loaded workbook's."""
    return "project" if PROJECT_ID.match(category.id) else "studio"


@dataclass(frozen=True)
class Owner:
    category: Category
    source: str
    condition: str | None  # "approved" / "sexual": the category takes a hit only when it holds


def owners(catalog: Sequence[Category]) -> dict[str, list[Owner]]:
    """Lexicon → the categories whose findings its hits make (the studio's over the project's)."""
    r = rules()
    by_lexicon: dict[str, dict[str, list[Category]]] = defaultdict(lambda: defaultdict(list))
    for category in catalog:
        for lexicon in dict.fromkeys(category.lexicons):
            by_lexicon[lexicon][source_of(category)].append(category)
    out: dict[str, list[Owner]] = {}
    for lexicon, sources in by_lexicon.items():
        source = "studio" if sources.get("studio") else "project"
        chosen = sources[source]
        out[lexicon] = [Owner(c, source, _condition(c, source, by_lexicon, r)) for c in chosen]
    return out


def _condition(category: Category, source: str, by_lexicon: dict[str, dict[str, list[Category]]],
               r: Rules) -> str | None:
    text = category.name.lower()
    for condition, markers in r.conditions.items():
        if any(m in text for m in markers):
            own = [lx for lx in category.lexicons if lx not in r.context]
            shared = all(any(c.id != category.id for c in by_lexicon[lx].get(source, ())) for lx in own)
            if own and shared:
                return condition
    return None


@dataclass
class _Scene:
    index: int
    label: str
    lines: int
    words: int
    cues: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # cue → line numbers
    sexual: bool = False


@dataclass
class _Group:
    owner: Owner
    scene: int
    hits: list[Any] = field(default_factory=list)
    negated: list[Any] = field(default_factory=list)
    context: list[Any] = field(default_factory=list)


def _near(lines: Iterable[int], cue_lines: list[int], near: int = NEAR) -> bool:
    """Whether a cue sits within ``near`` lines of one of the lines (cue lines are in reading order)."""
    if not cue_lines:
        return False
    for line in lines:
        k = bisect_left(cue_lines, line - near)
        if k < len(cue_lines) and cue_lines[k] <= line + near:
            return True
    return False


def _together_near(lines: Iterable[int], cue_lines: list[int], near: int = NEAR) -> bool:
    """Whether two cues sit within ``near`` lines of the same line."""
    for line in lines:
        k = bisect_left(cue_lines, line - near)
        if k + 1 < len(cue_lines) and cue_lines[k + 1] <= line + near:
            return True
    return False


@dataclass
class _Survey:
    scenes: dict[int, _Scene]
    names: set[str]  # each word of each speaker's name, folded
    texts: dict[int, str]  # line number → text, for the lines asked for
    pages: dict[int, int]  # line number → page (PAGE_WORDS words each), for the lines asked for
    page_count: int
    minors: set[str]  # the characters the script introduces as under 18 ("ЛИЗА (14)")


def _survey(document: Any, needed: set[int]) -> _Survey:
    """One pass over the lines: each scene's size in lines and words, the speakers' names, and the
    text and page of the lines ``needed``."""
    scenes: dict[int, _Scene] = {}
    speakers: set[str] = set()
    texts: dict[int, str] = {}
    pages: dict[int, int] = {}
    minors: set[str] = set()
    total = 0
    for scene in document.scenes:
        words = 0
        for line in scene.lines:
            text = line.text
            if not text:
                continue
            if line.number in needed:
                texts[line.number] = text
                pages[line.number] = (total + words) // PAGE_WORDS
            words += text.count(" ") + 1  # lines are single-spaced
            if line.speaker:
                speakers.add(line.speaker)
            if ("(" in text or "," in text) and _DIGIT.search(text):
                for caps, a, name, b in MINOR_INTRO.findall(text):
                    if 0 < int(a or b) < 18:
                        minors.add((caps or name).lower().replace("ё", "е"))
        scenes[scene.index] = _Scene(scene.index, scene.label, len(scene.lines), words)
        total += words
    names = {w for s in speakers for w in re.findall(r"\w+", s.lower().replace("ё", "е")) if len(w) > 2}
    return _Survey(scenes, names, texts, pages, total // PAGE_WORDS + 1, minors)


@without_cycle_collection
def rate(document: Any, catalog: Sequence[Category], lexicons: Any = None) -> Rating:
    """The document's findings and age rating under the catalog (see the module's docstring)."""
    from chalicelib.analysis import match

    r = rules()
    owned = owners(catalog)
    groups: dict[tuple[str, int], _Group] = {}
    hits = match(document, lexicons)
    survey = _survey(document, {h.line for h in hits})
    scenes, names, texts = survey.scenes, survey.names, survey.texts
    for hit in _unshadowed(hits, r):
        scene = scenes.get(hit.scene_index)
        if scene is None or hit.kind == "character":
            continue
        if names and _is_name(texts.get(hit.line, "")[hit.start:hit.end], names):
            continue  # a character called Бес, Sugar or Dick is a name, not a word
        if hit.lexicon.startswith(CUE):
            # "my boy", "девочка моя" in speech are address; a minor counts where the action shows one
            # (or where the script introduced the speaker as under 18: ``_minor_characters``).
            if not hit.negated and not (hit.lexicon == "cue.minor" and hit.kind == SPOKEN):
                weak = hit.lexicon == "cue.approved" and hit.intensity == 1
                scene.cues[WEAK_APPROVAL if weak else hit.lexicon].append(hit.line)
            continue
        if hit.lexicon in r.context and not hit.negated:
            scene.cues["context"].append(hit.line)
        if not hit.negated and hit.lexicon in ("sex.intercourse", "sex.explicit", "sex.pornography"):
            scene.sexual = True
        for owner in owned.get(hit.lexicon, ()):
            key = (owner.category.id, hit.scene_index)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(owner, hit.scene_index)
            if hit.lexicon in r.context:
                group.context.append(hit)
            elif hit.negated:
                group.negated.append(hit)
            else:
                group.hits.append(hit)
    _minor_characters(document, scenes, survey.minors)
    drafts = [d for d in (_draft(g, scenes[g.scene], r) for g in groups.values()) if d is not None]
    _spread(drafts, survey)
    # Weak signals (a lone "бар", a "toast") are not listed: a long script has hundreds of them.
    # Negated mentions and what an 18+-only category did not count (a single "кровь") are.
    findings = [f for f in (_finding(d, r) for d in drafts) if f is not None]
    findings.sort(key=lambda f: (f.scene, f.line, f.category))
    return Rating(rating=highest_age(f.age for f in findings), findings=findings,
                  labelling=sorted({f.labelling for f in findings if f.labelling and f.severity != "none"}))


# A character introduced with an age under 18: "ЛИЗА (14)", "MARY JANE (15)" (a screenplay's
# upper-case introduction), "Маша, 9 лет", "Tom, 15 years old" (an age with its unit).
MINOR_INTRO = re.compile(r"\b([A-ZА-ЯЁ]{2,}(?: [A-ZА-ЯЁ]{2,})?)\s*\((\d{1,2})\)"
                         r"|\b([A-ZА-ЯЁ][a-zа-яё]+),\s*(\d{1,2})[\s-]*(?:лет|года?|years?[\s-]old)\b")


_DIGIT = re.compile(r"\d")


def _minor_characters(document: Any, scenes: dict[int, _Scene], minors: set[str]) -> None:
    """Lines that name or give voice to a character the script introduces as under 18 (``minors``,
    from ``_survey``) count as a minor near (cue.minor), in every scene."""
    if not minors:
        return
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(minors))) + r")\b")
    for scene in document.scenes:
        found = [line.number for line in scene.lines
                 if (line.speaker and line.speaker.lower().replace("ё", "е") in minors)
                 or pattern.search(line.text.lower().replace("ё", "е"))]
        if found:
            cues = scenes[scene.index].cues["cue.minor"]
            cues.extend(found)
            cues.sort()


def _is_name(word: str, names: set[str]) -> bool:
    """A capitalised word that is a speaker's name ("Бес бьёт его"); "the robber" in lower case stays a word."""
    return word[:1].isupper() and word.lower().replace("ё", "е") in names


def _unshadowed(hits: list[Any], r: Rules) -> list[Any]:
    """Drop a hit inside a longer hit of another lexicon on the same line: the phrase is the more
    specific reading ("курить траву" is drugs, not tobacco; "razor blade" is self-harm, not a weapon)."""
    content = [h for h in hits if not h.lexicon.startswith(CUE) and h.lexicon not in r.context]
    by_line: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for hit in content:
        by_line[(hit.scene_index, hit.line)].append(hit)
    shadowed: set[int] = set()
    for same in by_line.values():
        if len(same) < 2:
            continue
        for hit in same:
            if any(o.lexicon != hit.lexicon and o.start <= hit.start and hit.end <= o.end
                   and o.end - o.start > hit.end - hit.start and not o.negated for o in same):
                shadowed.add(id(hit))
    return [h for h in hits if id(h) not in shadowed]


@dataclass
class _Draft:
    group: _Group
    scene: _Scene
    family: str
    hits: list[Any]
    strongest: Any
    qualifiers: set[str]
    points: int
    promotion: bool


def _distinct(hits: list[Any]) -> list[Any]:
    """One hit per place (a word two lexicons of the category share counts once), strongest kept."""
    best: dict[tuple[int, int], Any] = {}
    for hit in hits:
        key = (hit.line, hit.start)
        if key not in best or hit.intensity > best[key].intensity:
            best[key] = hit
    return list(best.values())


def _dense(count: int, words: int) -> bool:
    """Two or more hits that make up 4 % of the scene's words."""
    return count >= 2 and count * 100 >= 4 * max(words, 1)


def _draft(group: _Group, scene: _Scene, r: Rules) -> _Draft | None:
    category = group.owner.category
    context_needed = any(lx in r.context for lx in category.lexicons)
    hits = _distinct(group.hits)
    if context_needed and hits:
        context = scene.cues.get("context", [])
        hits = [h for h in hits if _near([h.line], context)]
    if not hits:
        if group.negated and not context_needed:
            strongest = max(group.negated, key=lambda h: h.intensity)
            fam = r.family(strongest.lexicon)
            return _Draft(group, scene, fam, [], strongest, {"negated_only"}, 0, False)
        return None
    per_line: dict[int, int] = defaultdict(int)
    for hit in hits:
        per_line[hit.line] += 1
    strongest = max(hits, key=lambda h: (h.intensity, per_line[h.line], -h.line))
    fam_name = r.family(strongest.lexicon)
    fam = r.families.get(fam_name, {})
    lines = sorted(per_line)
    cues = scene.cues
    q: set[str] = set()
    evidence = len(hits)
    intensity = max(h.intensity for h in hits)
    points = intensity
    # Frequency is relative to the scene's length: a play's act is one scene of thousands of words,
    # where three mentions are not "frequent" the way they are in a half-page screenplay scene.
    if evidence >= max(3, -(-scene.words // 500)):
        points += 1
        q.add("frequent")
    if evidence >= max(6, -(-scene.words // 250)):
        points += 1
    if _dense(evidence, scene.words):
        points += 1
        q.add("dense")
    # Naturalism is a way of showing: a cue beside an action line, or two strong words shown there.
    # In speech "кишки выпущу" is a threat and "poisoned entrails" a witches' brew, not a close-up.
    shown = [h for h in hits if h.kind != SPOKEN]
    strong = {h.term for h in shown if h.intensity == 3}
    if fam.get("naturalism") and (_near(sorted({h.line for h in shown}), cues.get("cue.naturalistic", []), 1)
                                  or (fam.get("strong_pair") and len(strong) >= 2)):
        points += 1
        q.add("naturalistic")
    # Approval lexicons, slurs and calls to violence express the stance themselves.
    # A slur in a character's mouth characterises the speaker; the scene takes a stance only when slurs are dense.
    # One "make them pay" may be about money; approval that is repeated or echoed by a cue is a stance.
    approving = sum(1 for h in hits if h.lexicon.endswith(".approval") and h.intensity == 3)
    cued = _near(lines, cues.get("cue.approved", [])) or _together_near(lines, cues.get(WEAK_APPROVAL, []))
    inherent = (approving >= 2 or (approving == 1 and cued)
                or (any(h.lexicon in r.stance and h.intensity == 3 for h in hits)
                    and _dense(sum(1 for h in hits if h.intensity == 3), scene.words)))
    weighs_approval = bool(fam.get("promotion")) or fam_name in APPROVAL_FAMILIES
    if inherent or (weighs_approval and cued):
        points += 1
        q.add("approved")
    if _near(lines, cues.get("cue.condemned", []), CONDEMN_NEAR):
        points -= 1
        q.add("condemned")
    ways = [h.line for h in hits if h.lexicon.endswith(METHODS) and h.intensity == 3]
    details = sorted({h.line for h in hits if h.lexicon.endswith(METHODS) and h.intensity == 2})
    if ways and _near(ways, details):
        points += 1  # "вскрыть вены в тёплой ванне, вдоль": how, not that; "Застрелюсь! Повешусь!" names no how
        q.add("methods")
    if fam.get("compassion") and cues.get("cue.compassion"):
        points -= 1
        q.add("compassion")
    if fam.get("minor") and _near(lines, cues.get("cue.minor", [])):
        points += int(fam["minor"])
        q.add("minor_involved")
    if _near(lines, cues.get("cue.offscreen", []), 1):
        points -= 1
        q.add("offscreen")
    if all(h.excerpt.rstrip().endswith("?") for h in hits):
        points -= 1  # only asked about ("Ты курил траву?"): a mention, not a depiction
        q.add("question")
    if intensity >= 2:
        points = max(points, 2)  # what lowers severity never erases a clear depiction
    condition = group.owner.condition
    if condition == "approved" and "approved" not in q:
        return None
    if condition == "sexual" and not scene.sexual:
        return None
    # Approval of a clear depiction (not of one weak word) is what the law calls promotion.
    promotion = (bool(fam.get("promotion")) and "approved" in q and "condemned" not in q and intensity >= 2
                 and (len(hits) >= 2 or inherent))  # one word beside an approving cue is not yet promotion
    return _Draft(group, scene, fam_name, hits, strongest, q, points, promotion)


def _severity(points: int) -> str:
    if points <= 1:
        return "none"
    if points <= 3:
        return "mild"
    return "moderate" if points == 4 else "severe"


def _spread(drafts: list[_Draft], survey: _Survey) -> None:
    """Episodic vs pervasive over the whole document. Pervasive: the category counts in a third of
    the scenes, or its clear hits (not weak words) fill a third of the pages where the document has
    more pages than scenes (a play's act is one scene of twenty pages), or it counts in
    ``PERVASIVE_SCENES`` scenes however long the script."""
    present: dict[str, set[int]] = defaultdict(set)
    pages: dict[str, set[int]] = defaultdict(set)
    condemned: set[str] = set()
    approved: set[str] = set()
    for d in drafts:
        if d.hits and _severity(d.points) != "none":
            cid = d.group.owner.category.id
            present[cid].add(d.scene.index)
            pages[cid].update(survey.pages[h.line] for h in d.hits if h.intensity >= 2)
            if "condemned" in d.qualifiers:
                condemned.add(cid)
            if "approved" in d.qualifiers:
                approved.add(cid)
    # The work condemns what it condemns somewhere and approves nowhere: its other scenes are not promotion.
    for d in drafts:
        cid = d.group.owner.category.id
        if d.hits and cid in condemned and cid not in approved and "condemned" not in d.qualifiers:
            d.qualifiers.add("condemned_in_work")
    scene_count = len(survey.scenes)
    for d in drafts:
        if not d.hits:
            continue
        cid = d.group.owner.category.id
        count = len(present.get(cid, ()))
        # The finer of scenes and pages is the unit: a play's act is twenty pages, a short scene a few lines.
        units, total = (pages.get(cid, ()), survey.page_count) if survey.page_count > scene_count else (
            present.get(cid, ()), scene_count)
        if count >= PERVASIVE_SCENES or len(units) >= max(3, total * PERVASIVE_SHARE):
            d.points += 1
            d.qualifiers.add("pervasive")
        elif count <= max(2, scene_count // 20):
            d.qualifiers.add("episodic")


def _finding(d: _Draft, r: Rules) -> Finding | None:
    """The draft as a finding; None for a weak signal that is not listed (see ``rate``)."""
    category = d.group.owner.category
    fam = r.families.get(d.family, {})
    q = d.qualifiers
    severity = "none" if not d.hits else _severity(d.points)
    if d.promotion:
        severity = "severe"
    ages = tuple(a for a in category.ages if a in AGES)
    age = age_for(severity, ages)
    intensity = max((h.intensity for h in d.hits), default=0)
    if severity != "none" and intensity == 1 and len(d.hits) < 3 and not d.promotion:
        severity = "none"  # a lone weak word ("бар", "toast") says little on its own
        age = None
    if (age and min(ages, key=AGES.index) == "18+" and severity == "mild" and "approved" not in q
            and (intensity < 3 or d.family not in PROHIBITED_AS_SUCH | {"sexual_violence"})):
        severity, age = "none", None
        q.add("below_threshold")  # listed: e.g. blood that is not naturalistic violence
    if d.family in ("instructions", "minors") and severity != "none" and len({h.term for h in d.hits}) < 2:
        # "step by step", "hide the body" alone name a method, they do not teach one; one phrase about a
        # child ("продал ... детям") is not the data that identifies a victim
        severity, age = "none", None
        q.add("below_threshold")
    if severity == "none" and not q & {"negated_only", "below_threshold"}:
        return None
    sexual_act = any(
        h.lexicon in EXPLICIT_LEXICONS | SEXUALISING_LEXICONS and h.intensity >= 2 for h in d.hits)
    if age and ((sexual_act and "minor_involved" in q) or "methods" in q):
        age = "18+"  # sexual content with a minor, ways of suicide: art. 5 part 2, whatever the category lists
    if age == "18+" and fam.get("promotion") and not q & BEYOND_DEPICTION:
        lower = [a for a in ages if AGES.index(a) < AGES.index("18+")]
        if lower:  # a range's top age is for promotion; a plain depiction stays below it
            age = max(lower, key=AGES.index)
            q.add("not_promotion")
    if (age == "18+" and fam.get("promotion") and q & {"condemned", "condemned_in_work"}
            and not q & {"approved", "methods"}):  # a method described is prohibited however the work judges it
        lower = [a for a in ages if AGES.index(a) < AGES.index("18+")]
        age = max(lower, key=AGES.index) if lower else "16+"
        q.add("falls_to_restricted")
    # Approval that the same scene also condemns is not promotion; a minor alone (a "boy" nearby)
    # does not make violence or a mention prohibited: sexual content with a minor is handled above.
    prohibiting = q & PROHIBITING - ({"approved"} if "condemned" in q else set())
    explicit = any(h.lexicon in EXPLICIT_LEXICONS and h.intensity == 3 for h in d.hits)
    if d.family == "sexual_violence" and any(h.kind == "action" for h in d.hits):
        explicit = True  # shown, not spoken of: a depiction of sexual violence is not art. 10's mention
    if d.family == "sex" and not explicit:
        prohibiting = set()  # art. 10: relations between the sexes without sexual acts are 16+
    if (age == "18+" and not prohibiting and d.family not in PROHIBITED_AS_SUCH and not explicit
            and not (sexual_act and "minor_involved" in q)):
        age = "16+"  # a depiction without what art. 5 part 2 names is art. 10's
        q.add("falls_to_restricted")
    if age and not d.promotion and not q & BEYOND_DEPICTION:
        age = _capped(age, ages, d, fam, q)
    severity = _consistent(severity, age, ages)
    if age:
        basis = fam.get("basis", {}).get(age) or r.generic_basis.get(age, "")
    else:
        basis = category.basis or ""
    labelling = category.labelling if severity != "none" else None
    if labelling and not ages:
        basis = fam.get("basis", {}).get("18+", "") or basis
    hit = d.strongest
    terms = tuple(dict.fromkeys(h.term for h in sorted(d.hits, key=lambda h: -h.intensity)))[:MAX_TERMS]
    return Finding(
        category=category.id, category_name=category.name, severity=severity, age=age, basis=basis,
        qualifiers=tuple(name for name in QUALIFIERS if name in q), scene=d.scene.index,
        scene_label=d.scene.label, line=hit.line, excerpt=hit.excerpt, evidence=len(d.hits),
        labelling=labelling, advice=advice(d.family, q, age, labelling), family=d.family, terms=terms,
        lines=tuple(sorted({h.line for h in d.hits}))[:MAX_LINES], source=d.group.owner.source,
        ages=tuple(sorted(ages, key=AGES.index)))


def _consistent(severity: str, age: str | None, ages: tuple[str, ...]) -> str:
    """The severity that maps onto the age the finding ended with, when a rule above moved the age
    within the category's range (a cap, not promotion): a reviewer who then sets a lower severity
    must never raise the age. An age outside the range (art. 10's 16+ for an 18+-only category)
    keeps the severity that was measured."""
    if age is None or age not in ages or age_for(severity, ages) == age:
        return severity
    fitting = [s for s in SEVERITIES[1:] if age_for(s, ages) == age]
    return fitting[-1] if fitting else severity


def _capped(age: str, ages: tuple[str, ...], d: _Draft, fam: dict[str, Any], q: set[str]) -> str:
    """The age of a finding nothing approves and no minor is in. What is said in dialogue is art. 9's
    description (a drinking bout, a death, a threat), not a depiction: the family's ``caps.spoken``
    ([episodic, pervasive]) bound it; ``caps.shown`` bounds what the action lines show (drinking not
    encouraged is 12+ however it is shown). Weak words however many make only the category's lowest
    age. No cap goes below the category's own lowest listed age."""
    lowest = min(ages, key=AGES.index) if ages else None
    caps: dict[str, str] = {}
    if lowest and d.family not in PROHIBITED_AS_SUCH and all(h.intensity == 1 for h in d.hits):
        caps["mild_words"] = lowest
    spoken = all(h.kind == SPOKEN for h in d.hits)
    bound = fam.get("caps", {}).get("spoken" if spoken else "shown")
    if bound:
        cap = bound["pervasive" in q]
        caps["spoken_only" if spoken else "not_promotion"] = (
            cap if lowest in (None, "18+") else max(cap, lowest, key=AGES.index))
    if not caps:
        return age
    name, limit = min(caps.items(), key=lambda item: AGES.index(item[1]))
    if AGES.index(age) <= AGES.index(limit):
        return age
    q.add(name)
    return limit


def advice(family: str, qualifiers: Iterable[str], age: str | None, labelling: str | None = None) -> str:
    """One sentence: what would have to change for the finding to fall below its age."""
    r = rules()
    if not age:
        return r.families.get("labelling", {}).get("advice", "") if labelling else ""
    parts = [r.families.get(family, {}).get("advice", "сократить или убрать эпизод")]
    parts += [r.qualifier_advice[q] for q in qualifiers if q in r.qualifier_advice]
    text = "; ".join(dict.fromkeys(parts))
    return text[:1].upper() + text[1:] + "."


__all__ = ["advice", "owners", "rate", "rules", "source_of"]

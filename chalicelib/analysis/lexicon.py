"""Lexicons: the editors' data files (``lexicons/*.json``) compiled once per container.

Each file is ``{"about": ..., "lexicons": [entry, ...]}``; an entry is
``{"name", "about"?, "ru": {"3": [term, ...], "2": [...], "1": [...]}, "en": {...}, "allow"?: [...]}``:
the group key is the terms' intensity (1 mild … 3 strong). A term is a string:

- ``убить``: the word in any of its forms (Russian by pymorphy3 lemma, English by stem);
- ``покончить с собой``: a phrase, each word in any form, up to ``gap`` (2) other words between;
- ``наркот*``: any word that starts so (as written, ё read as е);
- ``=хер``: this exact form only;

or an object ``{"term": ..., "unless": [words], "negatable": false, "gap": 3}``: ``unless`` drops
a hit with one of those words (any form) within three words of it (``пить`` + ``чай``);
``negatable: false`` keeps a hit counted even after a negation. ``allow`` (only meaningful on
``language.obscene``) lists innocent substrings the obscene-root matcher must not flag.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.analysis import morphology

LEXICON_DIR = Path(__file__).with_name("lexicons")
NAME = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
DEFAULT_GAP = 2


@dataclass(frozen=True, slots=True)
class Term:
    lexicon: str
    term: str
    intensity: int
    negatable: bool = True
    unless: frozenset[str] = frozenset()
    deriv: str | None = None  # English: the derivational ending beyond the stem ("ism" of extremism)


@dataclass(frozen=True, slots=True)
class Phrase:
    """A multi-word term, indexed by its anchor: its rarest-looking word (the longest), so common
    words ("в", "не", "the", "i") never make a line take the slow path."""
    ref: Term
    before: tuple[frozenset[str], ...]  # lemma keys of the words before the anchor, nearest first
    after: tuple[frozenset[str], ...]  # lemma keys of the words after the anchor, in order
    gap: int
    weak: bool = False  # the anchor is a frequent word: look only where the partner word is too
    partner: frozenset[str] = frozenset()  # lemma keys of the rarest word besides the anchor


@dataclass
class Compiled:
    """Lookups from a token's lemma keys (``by_key``), exact forms, prefixes and phrase heads."""
    names: set[str] = field(default_factory=set)
    by_key: dict[str, list[Term]] = field(default_factory=dict)
    by_form: dict[str, list[Term]] = field(default_factory=dict)
    prefixes: list[tuple[str, Term]] = field(default_factory=list)
    prefix_re: re.Pattern[str] | None = None
    phrases: dict[str, list[Phrase]] = field(default_factory=dict)
    partner_keys: frozenset[str] = frozenset()  # keys of the partner words of weak-anchored phrases
    allow: tuple[str, ...] = ()
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # name → {"ru": n, "en": n}


def term_keys(word: str, lang: str) -> tuple[str, ...]:
    """The keys a term's word is indexed by: its likeliest lemma (Russian), its stem (English)."""
    word = morphology.fold(word)
    if lang == "ru":
        return (morphology.ru_term_lemma(word),)
    return (morphology.en_stem(word),)


def _add(compiled: Compiled, lang: str, raw: str | dict[str, Any], intensity: int, name: str) -> None:
    spec = {"term": raw} if isinstance(raw, str) else dict(raw)
    text = str(spec["term"]).strip()
    unless = frozenset(k for w in spec.get("unless", ()) for k in morphology.keys(morphology.fold(w)))
    ref = Term(name, text, intensity, bool(spec.get("negatable", True)), unless)
    folded = morphology.fold(text)
    if folded.startswith("="):
        compiled.by_form.setdefault(folded[1:], []).append(ref)
    elif folded.endswith("*"):
        compiled.prefixes.append((folded[:-1], ref))
    else:
        words = morphology.TOKEN.findall(folded)
        if not words:
            raise ValueError(f"{name}: empty term {text!r}")
        if len(words) == 1:
            if lang == "en" and not morphology.CYRILLIC.search(words[0]):
                ref = Term(name, text, intensity, ref.negatable, unless, morphology.en_deriv(words[0]))
            for key in term_keys(words[0], lang):
                compiled.by_key.setdefault(key, []).append(ref)
        else:
            ranked = sorted(range(len(words)), key=lambda k: (morphology.rarity(words[k], lang), -k), reverse=True)
            anchor, partner = ranked[0], ranked[1]
            keys = [frozenset(term_keys(w, lang)) for w in words]
            weak = morphology.rarity(words[anchor], lang)[0] < morphology.RARE
            phrase = Phrase(ref, tuple(reversed(keys[:anchor])), tuple(keys[anchor + 1:]), int(spec.get("gap", DEFAULT_GAP)),
                            weak, keys[partner] if weak else frozenset())
            compiled.partner_keys |= phrase.partner
            for key in keys[anchor]:
                compiled.phrases.setdefault(key, []).append(phrase)


def compile_entries(entries: list[dict[str, Any]]) -> Compiled:
    compiled = Compiled()
    for entry in entries:
        name = entry["name"]
        if not NAME.match(name) or name in compiled.names:
            raise ValueError(f"lexicon name {name!r} is malformed or defined twice")
        compiled.names.add(name)
        compiled.counts[name] = {}
        for lang in ("ru", "en"):
            groups = entry.get(lang) or {}
            compiled.counts[name][lang] = sum(len(terms) for terms in groups.values())
            for level, terms in groups.items():
                intensity = int(level)
                if intensity not in (1, 2, 3):
                    raise ValueError(f"{name}: intensity {level!r} is not 1, 2 or 3")
                for raw in terms:
                    _add(compiled, lang, raw, intensity, name)
        if entry.get("allow"):
            compiled.allow += tuple(morphology.fold(w) for w in entry["allow"])
    if compiled.prefixes:
        alternatives = sorted({re.escape(p) for p, _ in compiled.prefixes}, key=len, reverse=True)
        compiled.prefix_re = re.compile("^(?:" + "|".join(alternatives) + ")")
    return compiled


def read_entries(path: Path | None = None) -> list[dict[str, Any]]:
    """The raw entries of a lexicon file, or of every ``*.json`` in a directory (default: ours)."""
    path = path or LEXICON_DIR
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    entries: list[dict[str, Any]] = []
    for file in files:
        entries.extend(json.loads(file.read_text(encoding="utf-8"))["lexicons"])
    return entries


@lru_cache(maxsize=4)
def load_lexicons(path: Path | str | None = None) -> Compiled:
    """The compiled lexicons (cached: compiled once per container and path).

    Then ``gc.freeze()``: the lexicons, pymorphy3's dictionaries and everything loaded so far live
    as long as the container, so the cyclic collector stops walking them on every full collection
    (measured: -10 % on a 300-page script's median rating time)."""
    import gc

    compiled = compile_entries(read_entries(Path(path) if path else None))
    gc.collect()
    gc.freeze()
    return compiled

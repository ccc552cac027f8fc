"""Matching a document's lines against the compiled lexicons.

One pass per line: ``TOKEN.findall`` over the folded line; tokens never seen before get their info
once (lemma keys → single-word terms and phrase heads, exact forms, prefixes, the obscene roots) and
are then remembered as *hot* (something starts there) or not. A line with no hot token, which is
nearly every line, costs a findall, a set difference and ``isdisjoint``, all in C; only hot lines
take the slow path (token offsets, phrases, ``unless`` words, negation). Letters split by
separators (``б л я``) are looked for per line with one regex.

Negation: a negator (``не``, ``нет``, ``ни``, ``никогда``, ``без``, ``нельзя``, ``not``, ``never``,
``no``, ``without``, ``n't`` forms) up to ``NEG_WINDOW`` words before a hit, with no clause
punctuation between, marks the hit ``negated`` (``не только`` / ``not only`` does not negate).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from chalicelib.analysis import morphology, obscene
from chalicelib.analysis.lexicon import Compiled, Phrase, Term, load_lexicons

EXCERPT_MAX = 300
NEG_WINDOW = 3
UNLESS_WINDOW = 3
NEGATORS = frozenset({
    "не", "нет", "ни", "никогда", "ничуть", "без", "нельзя", "not", "never", "no", "nor", "without", "cannot",
    "don't", "doesn't", "didn't", "won't", "isn't", "wasn't", "aren't", "weren't", "can't", "couldn't",
    "wouldn't", "shouldn't", "haven't", "hasn't", "hadn't", "ain't", "dont", "doesnt", "didnt", "wont", "cant",
})
NOT_NEGATING_NEXT = frozenset({"только", "просто", "лишь", "only", "just"})
POST_NEGATORS = frozenset({"никогда"})
POST_WINDOW = 2
CLAUSE_BREAK = re.compile(r"[.,;:!?…—–()\"«»]")
DEOBFUSCATE = str.maketrans({"a": "а", "c": "с", "e": "е", "k": "к", "o": "о", "p": "р", "x": "х", "y": "у",
                             "m": "м", "t": "т", "h": "н", "b": "в", "0": "о", "3": "з", "6": "б", "@": "а",
                             "$": "с"})
_PURE = re.compile(r"[а-я]+|[a-z]+(?:'[a-z]+)?")
_LATIN_WORD = re.compile(r"[a-z']+")
_CACHE_MAX = 500_000


class Hit(NamedTuple):
    """Immutable; a named tuple because a dense script makes thousands (a third of a frozen dataclass's cost)."""

    lexicon: str
    term: str
    scene_index: int
    line: int
    start: int
    end: int
    excerpt: str
    intensity: int
    negated: bool
    speaker: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class _Info:
    terms: tuple[Term, ...]
    phrases: tuple[Phrase, ...]


class _State:
    """Per-lexicon caches: token → info (hot tokens only), every token seen, and lemma keys."""

    def __init__(self, compiled: Compiled) -> None:
        self.lex = compiled
        self.info: dict[str, _Info] = {}
        self.hot: set[str] = set()  # a line with one of these is scanned
        self.weak: dict[str, frozenset[str]] = {}  # anchor of weak-anchored phrases only → partner keys
        self.partners: set[str] = set()  # tokens that are some weak phrase's partner word
        self.seen: set[str] = set()
        self.key_cache: dict[str, tuple[str, ...]] = {}

    def word(self, token: str) -> str:
        """The token as a plain word for lemma lookup: de-obfuscated if it mixes scripts."""
        if _PURE.fullmatch(token):
            return token
        plain = token.translate(DEOBFUSCATE)
        return plain if _PURE.fullmatch(plain) else morphology.clean(token)

    def keys(self, token: str) -> tuple[str, ...]:
        found = self.key_cache.get(token)
        if found is None:
            word = self.word(token)
            found = self.key_cache[token] = morphology.keys(word) if word else ()
        return found

    def learn(self, token: str) -> None:
        if len(self.seen) > _CACHE_MAX:
            self.seen.clear()
            self.hot.clear()
            self.weak.clear()
            self.partners.clear()
            self.info.clear()
            self.key_cache.clear()
        self.seen.add(token)
        lex = self.lex
        word = self.word(token)
        terms: list[Term] = []
        phrases: list[Phrase] = []
        rude = obscene.classify(token, lex.allow)
        if rude:
            terms.append(Term(rude[0], rude[1], rude[2], negatable=False))
        if word:
            keys = self.key_cache[token] = morphology.keys(word)
            if not lex.partner_keys.isdisjoint(keys):
                self.partners.add(token)
            deriv = morphology.en_deriv(word) if _LATIN_WORD.fullmatch(word) else None
            for key in keys:
                found = lex.by_key.get(key, ())
                terms.extend(t for t in found if t.deriv is None or t.deriv == deriv)
                phrases.extend(lex.phrases.get(key, ()))
            terms.extend(lex.by_form.get(word, ()))
            if lex.prefix_re is not None and lex.prefix_re.match(word):
                terms.extend(ref for prefix, ref in lex.prefixes if word.startswith(prefix))
        if terms or phrases:
            self.info[token] = _Info(tuple(dict.fromkeys(terms)), tuple(phrases))
            if terms or not all(p.weak for p in phrases):
                self.hot.add(token)
            else:
                self.weak[token] = frozenset().union(*(p.partner for p in phrases))


_states: dict[int, _State] = {}


def _state(compiled: Compiled) -> _State:
    state = _states.get(id(compiled))
    if state is None or state.lex is not compiled:
        state = _states[id(compiled)] = _State(compiled)
    return state


def fold_line(text: str) -> str:
    """``morphology.fold`` keeping offsets: a character whose lower case is longer stays as it is."""
    low = morphology.fold(text)
    if len(low) != len(text):
        low = "".join(c if len(c.lower()) != 1 else morphology.fold(c) for c in text)
    return low


def excerpt(text: str, start: int, end: int) -> str:
    if len(text) <= EXCERPT_MAX:
        return text.strip()
    room = max(EXCERPT_MAX - (end - start), 0)
    left = max(0, min(start - room // 2, len(text) - EXCERPT_MAX))
    return text[left:left + EXCERPT_MAX].strip()


def _negated(low: str, spans: list[tuple[int, int]], toks: list[str], i: int, j_end: int | None = None) -> bool:
    for j in range(i - 1, max(-1, i - 1 - NEG_WINDOW), -1):
        if CLAUSE_BREAK.search(low, spans[j][1], spans[j + 1][0]):
            break
        if toks[j] in NEGATORS:
            return not (j + 1 < len(toks) and toks[j + 1] in NOT_NEGATING_NEXT)
    # Russian puts the object first: "наркотиков никогда не пробовал", "водки ни разу не пил".
    end = i if j_end is None else j_end
    for j in range(end + 1, min(len(toks), end + 1 + POST_WINDOW)):
        if CLAUSE_BREAK.search(low, spans[j - 1][1], spans[j][0]):
            return False
        if toks[j] in POST_NEGATORS or (toks[j] == "ни" and j + 1 < len(toks) and toks[j + 1] == "разу"):
            return True
    return False


def _phrase_span(state: _State, phrase: Phrase, toks: list[str], i: int) -> tuple[int, int] | None:
    """(first, last) token of the phrase whose anchor is token ``i``, or None."""
    j = i
    for wanted in phrase.after:
        for k in range(j + 1, min(len(toks), j + 2 + phrase.gap)):
            if not wanted.isdisjoint(state.keys(toks[k])):
                j = k
                break
        else:
            return None
    first = i
    for wanted in phrase.before:
        for k in range(first - 1, max(-1, first - 2 - phrase.gap), -1):
            if not wanted.isdisjoint(state.keys(toks[k])):
                first = k
                break
        else:
            return None
    return first, j


def _scan_hot(state: _State, low: str, toks: list[str]) -> list[tuple[Term, int, int, bool]]:
    """Hits in a line with a hot token. Token offsets are found only once something matched (a line
    whose hot word heads no phrase that completes costs a loop of dict lookups)."""
    spans: list[tuple[int, int]] | None = None
    out: list[tuple[Term, int, int, bool]] = []
    info_of = state.info.get
    for i, tok in enumerate(toks):
        info = info_of(tok)
        if info is None:
            continue
        candidates: list[tuple[Term, int, int]] = [(ref, i, i) for ref in info.terms]
        for phrase in info.phrases:
            span = _phrase_span(state, phrase, toks, i)
            if span is not None:
                candidates.append((phrase.ref, *span))
        for ref, first, j in candidates:
            if ref.unless:
                near = range(max(0, first - UNLESS_WINDOW), min(len(toks), j + 1 + UNLESS_WINDOW))
                if any(not ref.unless.isdisjoint(state.keys(toks[k])) for k in near if k < first or k > j):
                    continue
            if spans is None:
                spans = [m.span() for m in morphology.TOKEN.finditer(low)]
            negated = ref.negatable and _negated(low, spans, toks, first, j)
            out.append((ref, spans[first][0], spans[j][1], negated))
    return out


def _dedupe(found: list[tuple[Term, int, int, bool]]) -> list[tuple[Term, int, int, bool]]:
    """Per lexicon, drop a hit inside a longer (or equal, stronger) one: a phrase over its words."""
    found.sort(key=lambda f: (f[1], -(f[2] - f[1]), -f[0].intensity))
    kept: list[tuple[Term, int, int, bool]] = []
    for hit in found:
        if not any(k[0].lexicon == hit[0].lexicon and k[1] <= hit[1] and hit[2] <= k[2] for k in kept):
            kept.append(hit)
    return kept


def _partnered(state: _State, distinct: set[str]) -> bool:
    """Whether a weak anchor of the line has its phrase's partner word in the line too."""
    weak = state.weak
    wanted = frozenset().union(*(weak[t] for t in distinct if t in weak))
    return any(not wanted.isdisjoint(state.keys(t)) for t in distinct.intersection(state.partners))


def scan_line(state: _State, text: str) -> list[tuple[Term, int, int, bool]]:
    """(term, start, end, negated) for each hit in one line."""
    low = fold_line(text)
    toks = morphology.TOKEN.findall(low)
    found: list[tuple[Term, int, int, bool]] = []
    if toks:
        distinct = set(toks)
        if not distinct <= state.seen:
            for tok in distinct - state.seen:
                state.learn(tok)
        if not state.hot.isdisjoint(distinct) or (
                not state.weak.keys().isdisjoint(distinct) and not state.partners.isdisjoint(distinct)
                and _partnered(state, distinct)):
            found = _scan_hot(state, low, toks)
    # Letters split by separators ("б л я", "е.б.а.т.ь") are single-letter tokens, three or more.
    if list(map(len, toks)).count(1) >= 2:
        for start, end, joined in obscene.spaced(low):
            rude = obscene.classify(joined, state.lex.allow)
            if rude:
                found.append((Term(rude[0], rude[1], rude[2], negatable=False), start, end, False))
    return _dedupe(found) if len(found) > 1 else found


def match(document: Any, lexicons: Compiled | None = None) -> list[Hit]:
    """Every lexicon hit in a document (anything with ``scenes`` of ``index`` and ``lines`` of
    ``number, text, kind, speaker``), in reading order; character cue lines are skipped."""
    state = _state(lexicons or load_lexicons())
    hits: list[Hit] = []
    for scene in document.scenes:
        for line in scene.lines:
            text = line.text
            if not text or line.kind == "character":  # a cue line is a name ("УБИЙЦА", "DRUNK"), not content
                continue
            for ref, start, end, negated in scan_line(state, text):
                hits.append(Hit(ref.lexicon, ref.term, scene.index, line.number, start, end,
                                excerpt(text, start, end), ref.intensity, negated, line.speaker, line.kind))
    return hits


def match_lines(lines: Iterable[str], lexicons: Compiled | None = None) -> list[tuple[int, Term, int, int, bool]]:
    """(line number from 1, term, start, end, negated) over plain lines: benchmarks, quick checks."""
    state = _state(lexicons or load_lexicons())
    return [(n, *hit) for n, text in enumerate(lines, 1) for hit in scan_line(state, text)]

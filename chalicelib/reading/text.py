"""Plain text: decoding bytes, one clean line per source line, and the mess PDFs and their text
exports leave (page numbers, continuation markers, running headers and footers, hyphenation)."""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Callable

from chalicelib.reading.model import UnreadableDocument

# Cyrillic single-byte encodings tried when the bytes are not UTF-8, best guess first on a tie.
CYRILLIC_CANDIDATES = ("cp1251", "koi8-r", "cp866", "mac-cyrillic")


@dataclass(slots=True)
class Raw:
    """One line on its way into a Document: a format's reader fills ``text`` (and whatever the
    format shows: ``indent``, ``kind``, ``speaker``, ``label``); the classifier fills the rest."""

    text: str
    indent: float | None = None   # leading indentation in the format's own unit (columns, points)
    kind: str | None = None
    speaker: str | None = None
    label: str | None = None      # for headings: the scene's number as the script gives it
    level: str | None = None      # for headings: "act" or "scene"


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in: UTF-8 (with or without BOM) or UTF-16 with a BOM
    strictly; otherwise the single-byte Cyrillic encoding whose reading looks most like Russian
    (mostly lower-case letters, no box-drawing), or cp1252 when nothing reads as Cyrillic words."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = max(CYRILLIC_CANDIDATES, key=lambda enc: _russian_score(data.decode(enc, errors="replace")))
    text = data.decode(best, errors="replace")
    if _cyrillic_words(text):
        return text, best
    return data.decode("cp1252", errors="replace"), "cp1252"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"the text claims {encoding} by its BOM but is not valid {encoding}") from exc


def _russian_score(text: str) -> int:
    """Russian prose is mostly lower-case Cyrillic; a wrong single-byte reading turns it into
    upper case (koi8-r read as cp1251 and back), box drawing (cp866) or symbols."""
    lower = upper = junk = 0
    for ch in text:
        if ch < "\x80":
            continue
        if "а" <= ch <= "я" or ch == "ё":
            lower += 1
        elif "А" <= ch <= "Я" or ch == "Ё":
            upper += 1
        else:
            junk += 1
    return 2 * lower - upper - 3 * junk


_CYR_WORD = re.compile(r"[а-яё]{3,}", re.I)
_MIXED = re.compile(r"[a-z][а-яё]|[а-яё][a-z]", re.I)


def _cyrillic_words(text: str) -> bool:
    """Cyrillic words, not Latin words with stray accented letters read as Cyrillic (café → cafй)."""
    words = len(_CYR_WORD.findall(text))
    return words > 0 and len(_MIXED.findall(text)) < max(1, words // 10)


_ZERO_WIDTH = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")   # soft hyphen, zero-width, BOM
_CONTROL = re.compile("[\x00-\x1f\x7f]")                                # read as spaces


def clean(line: str) -> tuple[str, int]:
    """One line's text (no invisible characters, one space between words (str.split's whitespace
    includes NBSP and the other Unicode spaces), trimmed) and its indentation in columns (a tab
    counts as 4)."""
    if not line:
        return "", 0
    stripped = line.lstrip()
    lead = len(line) - len(stripped)
    indent = lead + 3 * line.count("\t", 0, lead)
    if not stripped.isascii():
        stripped = _ZERO_WIDTH.sub("", stripped)
    if not stripped.isprintable():
        stripped = _CONTROL.sub(" ", stripped)
    elif "  " not in stripped:  # printable: its only whitespace is single ASCII spaces
        return stripped.rstrip(" "), indent
    return " ".join(stripped.split()), indent


def split_pages(text: str) -> list[list[str]]:
    """Lines per page: Windows and old-Mac line ends are unified, form feeds separate pages."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [page.split("\n") for page in text.split("\f")]


# A line that is only a page number: "12", "12.", "- 12 -", "Page 12", "Стр. 12", "12 of 120", "12/120".
_PAGE_NUMBER = re.compile(r"^(?:(?:page|p\.|стр\.?|страница|с\.)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?\.?"
                          r"(?:\s*(?:/|of|из)\s*\d{1,4})?$", re.I)
# Continuation markers that PDFs of screenplays carry at page breaks.
_MARKER = re.compile(r"^\(?(?:more|cont(?:['’]d|inued|d|\.)|далее|дальше|продолжение|прод\.?)\)?:?\s*(?:\(\d+\))?$",
                     re.I)
_DIGITS = re.compile(r"\d+")


# What a page number or a continuation marker can start with (most short lines are spared the regexes).
_NOISE_FIRST = frozenset("0123456789-–—(pPcCmMсСдДпП")


def is_noise(text: str) -> bool:
    if len(text) > 40 or text[:1] not in _NOISE_FIRST:  # neither a page number nor a marker is this long
        return False
    return bool(_PAGE_NUMBER.match(text) or _MARKER.match(text))


def running_lines(pages: list[list[str]], edge: int = 2) -> set[str]:
    """Headers and footers: a line among the first or last ``edge`` non-blank lines of a page that
    repeats (digits aside) on more than half of the pages, and on at least three."""
    if len(pages) < 3:
        return set()
    counts: dict[str, int] = {}
    for page in pages:
        lines = [t for t in (clean(x)[0] for x in page) if t and not is_noise(t)]
        for key in {_edge_key(t) for t in lines[:edge] + lines[-edge:]}:
            counts[key] = counts.get(key, 0) + 1
    need = max(3, len(pages) // 2 + 1)
    return {key for key, n in counts.items() if n >= need}


def _edge_key(text: str) -> str:
    return _DIGITS.sub("#", text.casefold())


def raws_from_pages(pages: list[list[str]], join_hyphens: bool, keep: Callable[[str], int]) -> list[Raw]:
    """Clean lines from pages, with page numbers, continuation markers and running headers and
    footers dropped, and (for hard-wrapped text) words hyphenated across line ends joined.

    ``keep(text)`` protects lines that only look like running lines: 2 (a scene heading: a
    numbered heading at the top of every page looks the same once digits are ignored) is never
    dropped; 1 (a character cue: a two-hander's ``ALEX`` near the foot of most pages) is dropped
    only as a page's very first or last line, where a cue cannot be."""
    running = running_lines(pages)
    out: list[Raw] = []
    for page in pages:
        cleaned = [clean(x) for x in page]
        noise = [bool(t) and is_noise(t) for t, _ in cleaned]
        nonblank = [i for i, (t, _) in enumerate(cleaned) if t and not noise[i]]
        edges = set(nonblank[:2] + nonblank[-2:]) if running else set()
        extremes = {nonblank[0], nonblank[-1]} if edges else set()
        for i, (text, indent) in enumerate(cleaned):
            if text and (noise[i] or (i in edges and _edge_key(text) in running
                                      and keep(text) < (2 if i in extremes else 1))):
                continue
            out.append(Raw(text, float(indent)))
    return join_hyphenated(out) if join_hyphens else out


_HYPHEN_END = re.compile(r"[^\W\d_][^\W\d_]-$")
_PARTICLE = re.compile(r"^(?:то|либо|нибудь|ка|таки|de|la)\b")


def join_hyphenated(raws: list[Raw]) -> list[Raw]:
    """``преступ-`` + ``ление, и…`` → ``преступление, и…``: a line ending in a letter and a hyphen
    joins the next line when that starts with a lower-case letter (Russian particles keep the
    hyphen: ``кто-`` + ``то`` → ``кто-то``)."""
    if not any(raw.text.endswith("-") for raw in raws):
        return raws
    out: list[Raw] = []
    i = 0
    while i < len(raws):
        raw = raws[i]
        while (i + 1 < len(raws) and raw.text.endswith("-") and _HYPHEN_END.search(raw.text)
               and raws[i + 1].text[:1].islower()):
            nxt = raws[i + 1].text
            head = raw.text if _PARTICLE.match(nxt) else raw.text[:-1]
            raw = Raw(head + nxt, raw.indent)
            i += 1
        out.append(raw)
        i += 1
    return out

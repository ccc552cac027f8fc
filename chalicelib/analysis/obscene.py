"""Obscene language (мат) by its roots, through common obfuscations.

A token (see ``morphology.TOKEN``: letters plus ``@ * # $`` and digits inside a word) is
normalized: if it mixes Cyrillic with anything else, Latin look-alikes and digits become the
Cyrillic letters they imitate (``x``→``х``, ``6``→``б``, ``0``→``о``, ``3``→``з``…), ``@`` and
``#`` become ``*``, and ``*`` stands for any one letter (``х@й``, ``бл@дь``, ``п*зда``). Whole-token
patterns then decide: each root allows only a closed list of prefixes before it and a closed set
of letters after it, so words that merely contain the letters do not match (``страхуй`` is
``стра``+``хуй``: ``стра`` is no prefix; ``корабля``, ``рубля``, ``употреблять`` do not start with
``бля``; ``небо``, ``себе``, ``колеблется`` have no allowed prefix before ``еб``). A whitelist
(the lexicon file's ``allow``, substrings) catches what slips through.

Letters split by separators (``б л я``, ``е.б.а.т.ь``) are found per line by ``SPACED``: a run of
three or more single characters, joined and checked like a token.

Fully Latin tokens are checked against a few transliterations (``blyat``, ``nahuy``, ``pizdec``).
"""
from __future__ import annotations

import re

LOOKALIKE = str.maketrans({
    "a": "а", "b": "б", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "n": "п", "o": "о", "p": "р",
    "r": "г", "t": "т", "u": "и", "x": "х", "y": "у", "0": "о", "3": "з", "4": "ч", "6": "б", "9": "я",
    "@": "*", "$": "с", "#": "*", "ё": "е",
})

# (name, lexicon, canonical term, intensity, pattern over a normalized whole token)
_ROOTS: list[tuple[str, str, str, int, str]] = [
    ("huy", "language.obscene", "хуй", 3,
     r"(?:на|по|а|о|от|до|за|ни|рас|раз|у|вы|при|с|недо)?ху(?:[йяюиеё]|ли$|ле$)\w*"),
    ("pizd", "language.obscene", "пизда", 3, r"\w*п[иеё]з[дж]\w*"),
    ("eb", "language.obscene", "ебать", 3,
     r"(?:за|на|вы|у|по|от|отъ|оть|об|объ|подъ|подь|въ|вь|съ|сь|разъ|разь|изъ|до|пере|при|про|недо|долбо"
     r"|мозго|ху|вз|взъ)?(?:е|ё|йо)б(?:[аиуеёылн]|ок|он|ищ|$)\w*"),
    ("blya", "language.obscene", "блядь", 3, r"(?:вы)?бл(?:я(?:$|[дтя])|еат)\w*"),
    ("mudak", "language.obscene", "мудак", 2, r"(?:раз)?муд(?:ак|ач|ил|озвон|ох)\w*"),
    ("manda", "language.obscene", "манда", 2, r"манд(?:а|ы|е|у|ой|ою|авошк\w*|ищ\w*)"),
    ("zalupa", "language.obscene", "залупа", 2, r"залуп\w*"),
    ("suka", "language.swear", "сука", 2, r"(?:сук(?:[аиеуо]\w*|ин\w*)|суч(?:к|ар|ий|ье|ьи|ка)\w*)"),
    ("her", "language.swear", "хер", 2,
     r"(?:на|по|ни|до)?хер(?:$|н\w*|ов\w*|а$|ом$|ачи\w*|ить\w*|ь$)"),
]
_LATIN_ROOTS: list[tuple[str, str, str, int, str]] = [
    ("huy", "language.obscene", "хуй", 3, r"(?:na|po|ni|o)?(?:x|kh)u(?:y|i|j|ya|ja|ye)\w*|(?:na|po|ni)huy\w*|huy\w*"),
    ("pizd", "language.obscene", "пизда", 3, r"\w*pi[sz]d\w*"),
    ("eb", "language.obscene", "ебать", 3, r"(?:za|na|vy|po|ot)?(?:e|ye|yo|jo)b(?:at|an|al|lo|osh|nu)\w*"),
    ("blya", "language.obscene", "блядь", 3, r"bl(?:ya|ja|ia)(?:$|d|t)\w*"),
    ("mudak", "language.obscene", "мудак", 2, r"mudak\w*"),
    ("suka", "language.swear", "сука", 2, r"(?:suka|cyka)"),
]
_CYR = {name: (lex, term, intensity) for name, lex, term, intensity, _ in _ROOTS}
_LAT = {name: (lex, term, intensity) for name, lex, term, intensity, _ in _LATIN_ROOTS}


def _starred(pattern: str) -> str:
    """Let ``*`` stand for any Cyrillic letter of the pattern: ``х`` → ``[х*]``, ``[ая]`` → ``[ая*]``."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            j = pattern.index("]", i)
            out.append(pattern[i:j] + "*]")
            i = j + 1
            continue
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append(f"[{ch}*]" if "а" <= ch <= "я" or ch == "ё" else ch)
        i += 1
    return "".join(out).replace(r"\w", r"[\w*]")


ROOTS = re.compile("|".join(f"(?P<{n}>{_starred(p)})" for n, _, _, _, p in _ROOTS).join(("^(?:", ")$")))
LATIN_ROOTS = re.compile("|".join(f"(?P<{n}>{p})" for n, _, _, _, p in _LATIN_ROOTS).join(("^(?:", ")$")))
# Three or more single characters split by spaces, dots, dashes or underscores: "б л я", "е.б.а.т.ь".
SPACED = re.compile(r"(?<![\w@$*])(?:[\w@$*][ .\-_]{1,3}){2,}[\w@$*](?![\w@$*])")
_PURE_CYR = re.compile(r"[а-я]+")
_PURE_LAT = re.compile(r"[a-z']+")


def normalize(token: str) -> str:
    """A folded token with look-alikes mapped to Cyrillic, if it mixes Cyrillic with anything else."""
    if _PURE_CYR.fullmatch(token) or _PURE_LAT.fullmatch(token):
        return token
    return token.translate(LOOKALIKE)


def classify(token: str, allow: tuple[str, ...] = ()) -> tuple[str, str, int] | None:
    """(lexicon, canonical term, intensity) if the folded token is an obscene or coarse root, else None."""
    if _PURE_LAT.fullmatch(token):
        found = LATIN_ROOTS.match(token)
        return _LAT[found.lastgroup] if found and found.lastgroup else None
    word = normalize(token)
    if sum(ch != "*" for ch in word) < 2 or not re.fullmatch(r"[а-я*]+", word):
        return None
    found = ROOTS.match(word)
    if not found or not found.lastgroup:
        return None
    if "*" not in word and any(stem in word for stem in allow):
        return None
    return _CYR[found.lastgroup]


def spaced(text: str) -> list[tuple[int, int, str]]:
    """(start, end, joined letters) of each run of split letters in a folded line."""
    return [(m.start(), m.end(), re.sub(r"[ .\-_]", "", m.group())) for m in SPACED.finditer(text)]

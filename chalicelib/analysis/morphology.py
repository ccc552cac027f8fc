"""Tokens and their lemma keys, Russian and English.

A token is a run of letters (Cyrillic or Latin), case-folded with ё folded to е; apostrophes inside
Latin words stay (``doesn't``). Obfuscation characters (digits, ``@``, ``*``, ``#``, ``$``) that
sit inside a word are part of the token too, so ``х@й`` or ``6ля`` reach the obscene matcher as one
token; ``clean()`` drops them for ordinary lemmatization.

Russian keys come from pymorphy3 (imported on first use: only the analyzer pays for its
dictionaries, ~16 MB on disk, ~0.2 s to load, never the API's cold start): every normal form whose
parse scores at least ``MIN_SCORE``, so an ambiguous form (``пила``: saw / she drank) counts for
both words. English keys are the Snowball (Porter2) stem after a small table of irregular forms.
Keys are cached per distinct token: a 300-page script has ~20k distinct tokens, so warm analysis
never parses a word twice.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

# Letters plus obfuscation characters inside a word; a word starts with a letter or a look-alike digit.
TOKEN = re.compile(r"[0-9@*#$]*[a-zа-я][a-zа-я0-9@*#$]*(?:'[a-z]+)?")
CYRILLIC = re.compile(r"[а-я]")
LATIN = re.compile(r"[a-z]")
MIN_SCORE = 0.15

# English forms the stemmer cannot reach (stem() of the value is taken after this table).
EN_IRREGULAR = {
    "shot": "shoot", "fought": "fight", "bled": "bleed", "beaten": "beat", "stole": "steal", "stolen": "steal",
    "hung": "hang", "hanged": "hang", "took": "take", "taken": "take", "drank": "drink", "drunk": "drunk",
    "slain": "slay", "slew": "slay", "struck": "strike", "stricken": "strike", "bit": "bite", "bitten": "bite",
    "ate": "eat", "threw": "throw", "thrown": "throw", "broke": "break", "broken": "break", "froze": "freeze",
    "dead": "dead", "died": "die", "dying": "die", "lying": "lie", "lay": "lie", "slit": "slit", "cut": "cut",
    "knives": "knife", "wives": "wife", "lives": "life", "thieves": "thief", "men": "man", "women": "woman",
    "children": "child", "mice": "mouse", "teeth": "tooth", "feet": "foot", "hid": "hide", "hidden": "hide",
    "smelt": "smell", "sold": "sell", "bought": "buy", "caught": "catch", "fled": "flee", "sank": "sink",
    "sunk": "sink", "swore": "swear", "sworn": "swear", "kissed": "kiss", "slept": "sleep", "got": "get",
    "gotten": "get", "made": "make", "went": "go", "gone": "go", "did": "do", "done": "do", "does": "do",
    "was": "be", "were": "be", "been": "be", "is": "be", "are": "be", "am": "be", "has": "have", "had": "have",
}


def fold(text: str) -> str:
    """Lower case, ё as е, typographic apostrophes as '."""
    low = text.lower()
    if "ё" in low:
        low = low.replace("ё", "е")
    return low.replace("’", "'") if "’" in low else low


def tokens(text: str) -> list[str]:
    return TOKEN.findall(fold(text))


def clean(token: str) -> str:
    """The token's letters only (obfuscation characters dropped)."""
    return re.sub(r"[^a-zа-я']", "", token)


@lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3  # lazy: ~16 MB of dictionaries

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Any, Any]:
    import snowballstemmer

    return snowballstemmer.stemmer("english"), snowballstemmer.stemmer("russian")


@lru_cache(maxsize=200_000)
def ru_lemmas(word: str) -> tuple[str, ...]:
    """Normal forms of a Russian word (ё folded), the likeliest first; the word itself if unknown."""
    out: list[str] = []
    for parse in _morph().parse(word):
        if parse.score >= MIN_SCORE or not out:
            lemma = parse.normal_form.replace("ё", "е")
            if lemma not in out:
                out.append(lemma)
    return tuple(out) or (word,)


# Words too common to anchor a phrase on (a phrase is looked for only where its anchor occurs).
COMMON = frozenset((
    "я ты он она оно мы вы они меня тебя его ее нас вас их мне тебе ему ей нам вам им себя себе собой мой твой "
    "свой наш ваш это этот тот так как что кто где когда зачем почему тут там уже еще опять снова сейчас потом "
    "надо нужно нужны нужен нельзя можно было быть есть будет был была были все всё весь только просто даже "
    "очень не ни нет да и а но или в на с со к по из за от до у о об про для под над без через при один одна "
    "i you he she it we they me him her us them my your his its our their this that these those what who where "
    "when why how here there now then again already just only even very not no yes and or but in on at to for "
    "of with by from up out off over under into onto about the a an is are was were be been being am have has "
    "had do does did will would can could should may might must shall get got go going all some any one"
).split())
_WEAK_POS = frozenset({"NPRO", "PREP", "CONJ", "PRCL", "PRED", "ADVB", "INTJ", "NUMR"})


FREQUENT_FILE = Path(__file__).with_name("frequent.txt")


@lru_cache(maxsize=1)
def frequent() -> frozenset[str]:
    """Keys (Russian lemmas, English stems) of the frequent words listed in ``frequent.txt``."""
    words = (w for line in FREQUENT_FILE.read_text(encoding="utf-8").splitlines()
             for w in line.split("#", 1)[0].split())
    return frozenset(k for w in words for k in keys(fold(w)))


RARE = 3  # rarity()[0] of a word that is neither a function word nor a frequent one


def rarity(word: str, lang: str) -> tuple[int, int]:
    """How unlikely a phrase word is in ordinary text: function words, then frequent words, then the
    rest; longer first within each."""
    word = fold(word)
    if word in COMMON:
        return (0, len(word))
    if lang == "ru" and CYRILLIC.search(word):
        parse = _morph().parse(word)[0]
        if parse.tag.POS in _WEAK_POS:
            return (1, len(word))
    if not frequent().isdisjoint(keys(word)):
        return (2, len(word))
    return (RARE, len(word))


def ru_term_lemma(word: str) -> str:
    """The lemma a lexicon term is indexed by: the term itself when it is a dictionary form of some
    parse (``горе`` is grief, not ``гора``; ``минет`` is not ``минуть``), else the likeliest lemma."""
    if any(parse.normal_form.replace("ё", "е") == word for parse in _morph().parse(word)):
        return word
    return ru_lemmas(word)[0]


@lru_cache(maxsize=200_000)
def ru_stem(word: str) -> str:
    """Snowball's Russian stem: measured against pymorphy3 in bench/analyze_match.py, not used for matching."""
    return _stemmers()[1].stemWord(word)


@lru_cache(maxsize=200_000)
def en_stem(word: str) -> str:
    word = word.replace("'", "")
    if word.endswith("nt") and len(word) > 3 and word[:-2] in {"don", "doesn", "didn", "isn", "wasn", "aren",
                                                              "weren", "won", "wouldn", "couldn", "shouldn",
                                                              "haven", "hasn", "hadn", "can", "ain"}:
        return "not"
    return _stemmers()[0].stemWord(EN_IRREGULAR.get(word, word))


_INFLECTIONS = ("ing", "ed", "es", "s", "d", "e", "'s")


@lru_cache(maxsize=200_000)
def en_deriv(word: str) -> str:
    """What an English word keeps beyond its Snowball stem once inflections are dropped: "" for
    kill/kills/killing/stabbed, "ism" for extremism(s), "ely" for extremely. Porter2 also strips
    derivations, so extremely and extremism share the stem "extrem"; a term matches a word only
    when this part agrees too."""
    word = EN_IRREGULAR.get(word.replace("'", ""), word.replace("'", ""))
    stem = en_stem(word)
    if not word.startswith(stem):
        return ""
    rest = word[len(stem):]
    for suffix in _INFLECTIONS:
        if rest.endswith(suffix):
            rest = rest[:-len(suffix)]
            break
    if len(rest) == 1 and stem.endswith(rest):  # stabbed, running: the doubled consonant
        return ""
    return rest


def keys(token: str) -> tuple[str, ...]:
    """The lemma keys a (clean) token is looked up by: Russian lemmas or the English stem."""
    if CYRILLIC.search(token):
        if LATIN.search(token):
            return ()
        return ru_lemmas(token)
    return (en_stem(token),)

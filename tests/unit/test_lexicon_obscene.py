"""Мат by its roots: obfuscated forms match, innocent words that merely contain the letters do not."""
from __future__ import annotations

import pytest

from chalicelib.analysis.lexicon import load_lexicons
from chalicelib.analysis.matching import match_lines
from chalicelib.analysis.obscene import classify

OBSCENE = ["хуй", "хуя", "нахуй", "похуй", "охуеть", "хуйня", "нихуя", "хули", "пизда", "пиздец", "спиздил",
           "распиздяй", "ебать", "ёб", "заебал", "уебок", "выебон", "ебанутый", "долбоёб", "съебался", "отъебись",
           "проебал", "ебло", "блядь", "бля", "блять", "выблядок", "бляяя", "мудак", "мудила", "манда", "залупа"]
OBFUSCATED = ["xуй", "х@й", "х*й", "п*зда", "пи3да", "бл@дь", "6ля", "6лядь", "ХУЙ", "Xуй", "е6ать", "п@здец",
              "blyat", "nahuy", "pizdec"]
INNOCENT = ["употреблять", "употребление", "корабля", "рубля", "оскорблять", "оскорбление", "страхуй", "застрахуй",
            "застрахуйте", "подстрахуй", "небольшой", "хулиган", "учебная", "учеба", "психология", "небо", "себе",
            "тебе", "колеблется", "хлеб", "ребёнок", "требовать", "перебить", "погребение", "сукно", "сук", "мудрый",
            "мудрость", "мандарин", "команда", "мандат", "херес", "херувим", "Херсон", "уху", "похудеть", "захудалый",
            "Хуан", "бляха", "сабля", "хула", "хулить", "сучья", "эпизод", "скипидар", "huge", "huey", "ebb", "suck",
            "хутор", "художник", "страхование", "рубль", "дебют"]


def rude(word: str) -> str | None:
    got = classify(word.lower().replace("ё", "е"), load_lexicons().allow)
    return got[0] if got else None


@pytest.mark.parametrize("word", OBSCENE + OBFUSCATED)
def test_obscene_words_and_their_obfuscations_match(word: str) -> None:
    assert rude(word) == "language.obscene"


@pytest.mark.parametrize("word", INNOCENT)
def test_innocent_words_do_not(word: str) -> None:
    assert rude(word) is None


@pytest.mark.parametrize("word", ["сука", "сучка", "хер", "х*р", "похер", "херня"])
def test_mild_roots_are_coarse_language_not_mat(word: str) -> None:
    assert rude(word) == "language.swear"


@pytest.mark.parametrize(("line", "span"), [("Ну б л я, опять.", "б л я"), ("Он сказал: е.б.а.т.ь!", "е.б.а.т.ь"),
                                            ("Х-У-Й тебе", "Х-У-Й")])
def test_letters_split_by_separators_match(line: str, span: str) -> None:
    hits = [(t.lexicon, line[s:e]) for _, t, s, e, _ in match_lines([line])]
    assert ("language.obscene", span) in hits


def test_split_initials_do_not_match() -> None:
    assert match_lines(["А. С. Пушкин и В. И. Даль, а я в лес."]) == []


def test_a_line_of_innocent_words_has_no_hits() -> None:
    line = " ".join(INNOCENT)
    assert {t.lexicon for _, t, _, _, _ in match_lines([line])} & {"language.obscene"} == set()

"""The analyzer's matching core: forms, phrases, negation, hits' places and excerpts, catalog names."""
from __future__ import annotations

import json
import pytest

from chalicelib.analysis import Hit, load_lexicons, match
from chalicelib.analysis.matching import match_lines
from chalicelib.reading.model import Document, Line, Scene
from infra.stack import ROOT


def found(text: str) -> set[tuple[str, str, bool]]:
    """(lexicon, matched text, negated) for one line."""
    return {(t.lexicon, text[s:e].lower(), neg) for _, t, s, e, neg in match_lines([text])}


def lexicons_of(text: str, negated: bool | None = None) -> set[str]:
    return {lex for lex, _, neg in found(text) if negated is None or neg == negated}


@pytest.mark.parametrize("text", ["Он убил её.", "Я тебя убью!", "Убивают всех.", "убить"])
def test_russian_forms_of_a_verb_count_as_the_verb(text: str) -> None:
    assert "violence.killing" in lexicons_of(text)


def test_a_derived_noun_is_its_own_word_and_listed_on_its_own() -> None:
    """убийца is not a form of убить (pymorphy3 keeps them apart); the lexicon lists both."""
    assert ("violence.killing", "убийца", False) in found("Убийца вернулся.")
    assert ("violence.killing", "убийцей", False) in found("Он стал убийцей.")


@pytest.mark.parametrize("word", ["kills", "killed", "killing", "kill"])
def test_english_forms(word: str) -> None:
    assert ("violence.killing", word, False) in found(f"He {word} them.")


def test_irregular_english_forms() -> None:
    assert "weapons.firearms" in lexicons_of("The guns were loaded.")
    assert ("crime.theft", "stole", False) in found("She stole the car.")
    assert ("suicide.methods", "hanged himself", False) in found("He hanged himself in the barn.")


def test_nouns_in_every_case() -> None:
    for text in ("кровь", "крови", "кровью", "пистолетом", "ножи", "водкой", "сигареты", "героина"):
        assert lexicons_of(text), text


def test_phrases_match_over_forms_with_small_gaps() -> None:
    assert ("suicide.act", "покончил с собой", False) in found("Он покончил с собой в марте.")
    assert ("suicide.methods", "вскрыла себе вены", False) in found("Она вскрыла себе вены.")
    assert ("drugs.use", "took drugs", False) in found("They took drugs all night.")
    assert "suicide.act" not in lexicons_of("Он покончил с делами и вернулся к себе.")


def test_a_phrase_hides_its_own_words_in_the_same_lexicon() -> None:
    hits = [(t.term, s, e) for _, t, s, e, _ in match_lines(["Она решила покончить с собой."])
            if t.lexicon == "suicide.act"]
    assert hits == [("покончить с собой", 11, 28)]


@pytest.mark.parametrize(("text", "lexicon"), [
    ("Она не курит.", "tobacco.smoking"),
    ("Я никогда не пробовал наркотики.", "drugs.names"),
    ("He never touched a drug.", "drugs.names"),
    ("She doesn't smoke.", "tobacco.smoking"),
    ("Он не пьёт водку.", "alcohol.drinks"),
])
def test_negated_mentions_are_recorded_as_negated(text: str, lexicon: str) -> None:
    assert lexicon in lexicons_of(text, negated=True)
    assert lexicon not in lexicons_of(text, negated=False)


def test_negation_stops_at_the_clause_and_at_not_only() -> None:
    assert "tobacco.smoking" in lexicons_of("Он не знал, что она курит.", negated=False)
    assert "alcohol.drinks" in lexicons_of("Он не только водку пил.", negated=False)
    assert "tobacco.smoking" in lexicons_of("Не спорю. Курит он много.", negated=False)


def test_unless_words_drop_innocent_uses() -> None:
    assert "alcohol.drinking" not in lexicons_of("Давай пить чай.")
    assert "alcohol.drinking" in lexicons_of("Давай пить, ребята!")
    assert "violence.killing" not in lexicons_of("Надо как-то убить время.")
    assert "violence.killing" not in lexicons_of("We kill time here.")


def test_obscene_hits_are_never_negated() -> None:
    assert ("language.obscene", "хуй", False) in found("Не хуй тут делать.")


def document() -> Document:
    long_line = "Слова " * 80 + "и тут он достал пистолет" + " и ещё слова" * 40
    lines = (Line(1, "ИНТ. КУХНЯ — НОЧЬ", "heading", None),
             Line(2, "ИВАН", "character", None),
             Line(3, "Я тебя застрелю, сука.", "dialogue", "ИВАН"),
             Line(4, long_line, "action", None))
    return Document("\n".join(line.text for line in lines),
                    (Scene(0, "1", lines[0].text, 1, 4, lines),), "txt", "utf-8")


def test_hits_carry_scene_line_offsets_speaker_kind_and_excerpt() -> None:
    hits = match(document())
    shot = next(h for h in hits if h.lexicon == "violence.killing")
    assert shot == Hit("violence.killing", "застрелить", 0, 3, 7, 15, "Я тебя застрелю, сука.", 3, False,
                       "ИВАН", "dialogue")
    assert "Я тебя застрелю, сука."[shot.start:shot.end] == "застрелю"
    assert any(h.lexicon == "language.swear" and h.term == "сука" for h in hits)
    gun = next(h for h in hits if h.lexicon == "weapons.firearms")
    assert gun.line == 4 and gun.kind == "action" and gun.speaker is None
    assert len(gun.excerpt) <= 300 and "пистолет" in gun.excerpt
    assert [(h.line, h.start) for h in hits] == sorted((h.line, h.start) for h in hits)


def test_every_lexicon_name_the_catalogs_use_exists() -> None:
    names = load_lexicons().names
    default = json.loads((ROOT / "infra" / "catalog" / "default_catalog.json").read_text())
    links = json.loads((ROOT / "chalicelib" / "catalog" / "client_links.json").read_text())
    used = {n for row in default["violations"] for n in row.get("lexicons") or []}
    used |= {n for link in links["links"].values() for n in link["lexicons"]}
    assert len(used) == 77 and used - names == set()


def test_every_lexicon_has_russian_and_english_terms() -> None:
    counts = load_lexicons().counts
    assert {name for name, c in counts.items() if not (c["ru"] and c["en"])} == set()


def test_the_loader_compiles_once_and_reads_another_file(tmp_path) -> None:
    assert load_lexicons() is load_lexicons()
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"about": "x", "lexicons": [
        {"name": "test.words", "ru": {"3": ["кот", "чёрный кот", "=котик", "мяу*"]}, "en": {"1": ["cat"]}}]}))
    mine = load_lexicons(path)
    lines = ["Чёрного кота видели.", "Котик и мяуканье.", "Cats."]
    got = [(n, t.term, s, e) for n, t, s, e, _ in match_lines(lines, mine)]
    assert got == [(1, "чёрный кот", 0, 12), (2, "=котик", 0, 5), (2, "мяу*", 8, 16), (3, "cat", 0, 4)]


def test_a_bad_lexicon_file_is_refused(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"about": "x", "lexicons": [{"name": "a.b", "ru": {"4": ["кот"]}}]}))
    with pytest.raises(ValueError):
        load_lexicons(path)

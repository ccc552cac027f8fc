"""The rating engine: severity and its qualifiers, ages and basis, the studio's workbook over the
project's catalog, advice and exceedances, and the labelled set's precision and recall."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.analyze_eval import (
    CLIENT_WORKBOOK,
    client_catalog,
    default_catalog,
    evaluate,
    items,
)
from chalicelib.rating import Category, Finding, Rating, exceedances, rate
from chalicelib.rating.engine import owners, source_of
from chalicelib.reading import read

DEFAULT = default_catalog()


def rated(text: str, catalog: list[Category] | None = None) -> Rating:
    return rate(read(text.encode("utf-8"), "scene.txt"), DEFAULT if catalog is None else catalog)


def counted(rating: Rating, family: str | None = None) -> list[Finding]:
    return [f for f in rating.findings if f.severity != "none" and (family is None or f.family == family)]


def heading(n: int, place: str = "КУХНЯ") -> str:
    return f"{n}. ИНТ. {place} — ДЕНЬ\n"


@pytest.fixture(scope="module")
def studio() -> list[Category]:
    assert CLIENT_WORKBOOK.is_file(), f"the client's workbook is missing: {CLIENT_WORKBOOK}"
    return DEFAULT + client_catalog()


def test_a_clean_childrens_scene_rates_0_plus() -> None:
    rating = rated(heading(1, "ДЕТСКАЯ") + "Маша строит из кубиков замок. Мама садится рядом на ковёр.\nМАША\n"
                   "Мама, смотри, какая башня! Тут будет жить принцесса и её котёнок.\n"
                   "Режиссёр просит крупный план: это класс, и соль сцены в тишине.\n")
    assert rating.rating == "0+" and counted(rating) == []


def test_negated_mentions_count_for_nothing() -> None:
    rating = rated(heading(1) + "БАБУШКА\nВнук у меня не пьёт, не курит, наркотиков никогда не пробовал.\n"
                   "ОН\nHe never touched a drug. I don't smoke.\n")
    assert rating.rating == "0+" and counted(rating) == []
    assert {"negated_only"} <= {q for f in rating.findings for q in f.qualifiers}


USE = ("Стас перетягивает руку жгутом, набирает героин в шприц и колется. Закатывает глаза.\n")


def test_condemned_drug_use_is_not_18_plus_promotion_and_approved_use_is() -> None:
    condemned = rated(heading(1, "ПРИТОН") + USE + heading(2, "БОЛЬНИЦА") + "ВРАЧ\nПередозировка героина. "
                      "Ещё десять минут — и мы бы его не спасли.\nМАТЬ\nОн же обещал, что завязал с наркотиками...\n"
                      "Стас колется снова. Мать плачет: он губит себя, это позор.\n")
    approved = rated(heading(1, "КЛУБ") + "МАКС\nПопробуй героин, это круто! Лучший кайф в жизни, ничего страшного.\n"
                     "Настя колется и смеётся.\n")
    drugs = counted(condemned, "drugs")
    assert drugs and all(f.age != "18+" for f in drugs)
    assert any("condemned" in f.qualifiers for f in drugs)
    promoted = counted(approved, "drugs")
    assert approved.rating == "18+" and any("approved" in f.qualifiers and f.age == "18+" for f in promoted)
    assert any("ст. 5 ч. 2" in f.basis for f in promoted)


def test_a_minor_involved_raises_the_severity() -> None:
    order = ("none", "mild", "moderate", "severe")
    adult = counted(rated(heading(1, "ДВОР") + "Мужчина курит сигарету у подъезда.\n"), "tobacco")
    child = counted(rated(heading(1, "ДВОР") + "Тринадцатилетний мальчик курит сигарету у подъезда.\n"), "tobacco")
    assert adult and child and "minor_involved" in child[0].qualifiers
    assert order.index(child[0].severity) > order.index(adult[0].severity)


def test_a_category_in_many_scenes_is_pervasive_and_in_one_is_episodic() -> None:
    drinking = "Они пьют водку и чокаются рюмками.\n"
    calm = "Они пьют чай с вареньем.\n"
    pervasive = rated("".join(heading(n) + (drinking if n % 4 else calm) for n in range(1, 13)))
    episodic = rated("".join(heading(n) + (drinking if n == 5 else calm) for n in range(1, 13)))
    assert all("pervasive" in f.qualifiers for f in counted(pervasive, "alcohol")) and counted(pervasive, "alcohol")
    assert [f.scene for f in counted(episodic, "alcohol")] == [5]
    assert "episodic" in counted(episodic, "alcohol")[0].qualifiers
    severity = ("none", "mild", "moderate", "severe")
    assert severity.index(counted(pervasive, "alcohol")[0].severity) > severity.index(
        counted(episodic, "alcohol")[0].severity)


@pytest.mark.parametrize("line", ["Ну ты и п*здабол.", "Х@й тебе, а не деньги.", "Б л я, опять опоздал.",
                                  "Е.б.а.т.ь, как холодно.", "Нахyй ты это сделал?", "Бл@дь, отбой был час назад!"])
def test_obfuscated_mat_is_obscene_and_18_plus(line: str) -> None:
    rating = rated(heading(1) + "ВАСЯ\n" + line + "\n")
    assert rating.rating == "18+" and [f.category for f in counted(rating, "obscene")] == ["language.obscene"]


def test_innocent_words_that_hold_the_letters_are_not_mat() -> None:
    rating = rated(heading(1, "ПОРТ") + "Капитан застрахуй груз, посчитай рубли. Небо ясное, корабль колеблется.\n")
    assert counted(rating, "obscene") == []


def test_the_studio_workbook_overrides_the_default_catalogs_ages(studio: list[Category]) -> None:
    scene = heading(1, "МАШИНА") + "ВОДИТЕЛЬ\nДа ёб твою мать, сколько можно стоять!\n"
    by_default = counted(rated(scene), "obscene")
    by_studio = counted(rated(scene, studio), "obscene")
    assert [(f.category, f.age, f.source) for f in by_default] == [("language.obscene", "18+", "project")]
    # The workbook's rows 1 (16+ / 18+) and 57 (12+ / 16+) link obscene language: a single word is mild.
    assert {f.category for f in by_studio} == {"1", "57"} and all(f.source == "studio" for f in by_studio)
    assert {f.age for f in by_studio if f.category == "1"} == {"16+"}
    # What the workbook does not link (torture) stays with the project's category.
    torture = counted(rated(heading(1, "ПОДВАЛ") + "Его пытают током, садист смеётся.\n", studio))
    assert {f.category for f in torture} == {"violence.graphic"}


def test_project_and_studio_ids_are_told_apart() -> None:
    def cat(i: str) -> Category:
        return Category(id=i, name="x", ages=("12+",), lexicons=("alcohol.drinks",))

    assert [source_of(cat(i)) for i in ("violence.graphic", "extremism", "12", "V-01")] == [
        "project", "project", "studio", "studio"]
    assert [o.category.id for o in owners([cat("substances.alcohol"), cat("7")])["alcohol.drinks"]] == ["7"]


def test_a_labelling_duty_has_no_age_and_is_listed(studio: list[Category]) -> None:
    rating = rated(heading(1, "СТУДИЯ") + "ВЕДУЩИЙ\nУ нас в гостях журналист, признанный иностранным агентом.\n", studio)
    labelled = [f for f in counted(rating) if f.category == "52"]
    assert labelled and labelled[0].age is None and "маркиров" in (labelled[0].labelling or "").lower()
    assert rating.labelling == [labelled[0].labelling]


def test_every_finding_carries_basis_advice_and_the_strongest_line() -> None:
    rating = rated(heading(1, "ЦЕХ") + "Бандиты избивают Лёху ногами.\nГлаварь достаёт нож и медленно режет "
                   "ему лицо. Крупным планом — кровь хлещет на бетон, Лёха захлёбывается кровью.\n")
    graphic = [f for f in counted(rating) if f.category == "violence.graphic"]
    assert graphic and graphic[0].age == "18+" and "naturalistic" in graphic[0].qualifiers
    assert graphic[0].line == 3 and graphic[0].evidence >= 2 and "кров" in graphic[0].excerpt
    for f in counted(rating):
        assert f.basis.startswith("436-ФЗ") and f.advice.endswith(".") and f.age


def test_exceedances_are_the_findings_above_the_target() -> None:
    rating = rated(heading(1) + "Он курит сигарету.\n" + heading(2) + "ВАСЯ\nБля, опять дождь.\n")
    ages = {f.age for f in counted(rating)}
    assert {"12+", "18+"} <= ages
    assert {f.age for f in exceedances(rating.findings, "12+")} == {"18+"}
    assert exceedances(rating.findings, "18+") == []
    assert exceedances(rating.findings, None) == [] and exceedances(rating.findings, "0+") == counted(rating)


def test_a_play_without_screenplay_headings_and_english_are_rated() -> None:
    play = ("ДЕЙСТВИЕ ЧЕТВЁРТОЕ\nЗа сценой выстрел.\nДОРН. Уведите отсюда Ирину Николаевну. "
            "Дело в том, что Константин Гаврилович застрелился...\n")
    english = "INT. GARAGE - NIGHT\nMark writes a suicide note. He ties a noose to the rafter.\n"
    assert {f.family for f in counted(rated(play))} >= {"suicide"}
    assert rated(english).rating == "18+"


def test_the_rating_serialises_to_json() -> None:
    rating = rated(heading(1) + "Он пьёт водку и курит.\n")
    data = json.loads(json.dumps(rating.to_dict(), ensure_ascii=False))
    assert data["rating"] == rating.rating and len(data["findings"]) == len(rating.findings)
    assert set(data["findings"][0]) >= {"category", "severity", "age", "basis", "qualifiers", "scene", "line",
                                        "excerpt", "evidence", "advice", "terms", "lines"}


def test_the_labelled_set_meets_precision_and_recall_targets() -> None:
    data = items()
    assert len(data) >= 100 and {i["lang"] for i in data} == {"ru", "en"}
    result = evaluate(DEFAULT, data)
    overall = result["overall"]
    assert overall["precision"] >= 0.85 and overall["recall"] >= 0.8, result["misses"]
    holdout = evaluate(DEFAULT, [i for i in data if i.get("split") == "holdout"])["overall"]
    assert holdout["precision"] >= 0.85 and holdout["recall"] >= 0.8


SAMPLES = Path(__file__).resolve().parents[2] / "bench" / "data" / "samples"


@pytest.mark.parametrize(("name", "low", "high"), [
    ("ru_kids_story.txt", "0+", "0+"),            # a children's cartoon: no finding at all
    ("ru_play_dacha.txt", "0+", "6+"),            # a Chekhov-like play: tea, tears, departures
    ("ru_family_drama.txt", "0+", "6+"),          # class, plan, Роман, мина, убили полчаса, страшно рад
    ("ru_crime_screenplay.txt", "16+", "18+"),    # a crime film: beatings, shootings, cocaine
    ("en_thriller_screenplay.txt", "12+", "16+"),  # a thriller: threats, a bar, a knife fight
    ("en_family_comedy.txt", "0+", "6+"),         # I could kill for a coffee, bombed the test, shoot!
])
def test_whole_sample_scripts_rate_where_a_person_would(name: str, low: str, high: str) -> None:
    rating = rate(read((SAMPLES / name).read_bytes(), name), DEFAULT)
    order = ("0+", "6+", "12+", "16+", "18+")
    assert order.index(low) <= order.index(rating.rating) <= order.index(high), (
        rating.rating, [(f.scene, f.category, f.severity, f.terms) for f in counted(rating)])


def test_a_character_introduced_as_a_child_counts_as_a_minor() -> None:
    rating = rated("1. ИНТ. КУХНЯ — ДЕНЬ\nЛИЗА (14) делает уроки.\n\n2. НАТ. ДВОР — ВЕЧЕР\nЛиза курит сигарету за гаражом.\n")
    smoking = counted(rating, "tobacco")
    assert smoking and "minor_involved" in smoking[0].qualifiers


def test_studio_categories_that_need_a_context_or_a_condition(studio: list[Category]) -> None:
    # Row 21 "Оружие у детей" links weapons and children: a gun alone is row 16, a gun in a child's
    # hands is row 21 too.
    adult = {f.category for f in counted(rated(heading(1) + "Мужчина чистит пистолет.\n", studio))}
    child = {f.category for f in counted(rated(heading(1) + "Мальчик достаёт из шкафа отцовский пистолет.\n", studio))}
    assert "16" in adult and "21" not in adult and {"16", "21"} <= child
    # Row 25 "Пропаганда вредных привычек" shares its lexicons with rows 7-9: only approval brings it in.
    plain = {f.category for f in counted(rated(heading(1) + "Они пьют водку на кухне.\n", studio))}
    promoted = {f.category for f in counted(rated(
        heading(1) + "ВАСЯ\nПей водку, это круто! Настоящий мужик пьёт до дна!\nОни пьют водку.\n", studio))}
    assert "7" in plain and "25" not in plain and {"7", "25"} <= promoted


# --- Calibration on real plays: describing is not depicting (docs/NOTES.md, "Rating calibration") ---

def play(*acts: str) -> str:
    """A play as DraCor's plain text gives it: act headings, a speaker's cue line, speech."""
    return "".join(f"\nДЕЙСТВИЕ {n}\n\n" + body for n, body in enumerate(acts, 1))


def test_drinking_only_talked_about_is_capped_at_12_and_shown_with_approval_is_not() -> None:
    talk = "ГАЕВ\nВыпьем шампанского! Я пил вчера коньяк и водку, и сегодня выпью.\n\n" * 8
    spoken = counted(rated(play(talk)), "alcohol")
    assert spoken and max(f.age for f in spoken) == "12+" and "spoken_only" in spoken[0].qualifiers
    promoted = rated(heading(1, "БАР") + "Они пьют водку стаканами и смеются.\nМАКС\n"
                     "Пей! Это круто, лучшее в жизни, все так делают!\n")
    assert promoted.rating == "18+"


def test_a_threat_in_a_quarrel_is_described_violence_and_a_shown_fight_is_not_capped() -> None:
    quarrel = "ЛОМОВ\nЗамолчи, а то я подстрелю тебя из ружья! Убью! Застрелю, как куропатку!\n\n" * 6
    spoken = counted(rated(play(quarrel)), "violence")
    assert spoken and all(f.age in ("6+", "12+") for f in spoken)
    fight = ("(Ломов бьёт его ножом в живот, тот падает; Ломов бьёт его снова и снова, убивает.)\n"
             "ЛОМОВ\nЗамолчи, а то я подстрелю тебя из ружья! Убью! Застрелю!\n\n") * 6
    shown = counted(rated(play(fight)), "violence")
    assert shown and "spoken_only" not in shown[0].qualifiers and max(f.age for f in shown) == "16+"


def test_gore_words_in_speech_are_not_naturalism_but_in_action_lines_they_are() -> None:
    spoken = rated(play("ВЕДЬМА\nВ котёл кишки и мозги, и кровь, и внутренности, и гной!\n\n"))
    assert all("naturalistic" not in f.qualifiers for f in spoken.findings)
    shown = rated(heading(1, "ПОДВАЛ") + "Крупным планом: кровь хлещет из раны, кишки вываливаются на пол.\n")
    assert any("naturalistic" in f.qualifiers for f in shown.findings) and shown.rating == "18+"


def test_weak_words_however_many_make_only_the_lowest_listed_age() -> None:
    fools = play("ШУТ\nДурак ты, дурак! Сам дурак! Дураки все, идиоты и болваны!\n\n" * 20)
    coarse = counted(rated(fools), "language")
    assert coarse and all(f.age == "12+" for f in coarse)
    assert any("mild_words" in f.qualifiers for f in coarse)


def test_one_weak_approval_word_does_not_approve_and_two_together_do() -> None:
    envy = rated(heading(1) + "ОН\nЯ завидую ему. Он пьёт коньяк и водку каждый день.\n")
    assert all("approved" not in f.qualifiers for f in envy.findings)
    pair = rated(heading(1) + "ОН\nПопробуй водку, это круто! Пей коньяк.\n")
    assert any("approved" in f.qualifiers for f in counted(pair, "alcohol"))


def test_a_named_method_is_not_instructions_but_two_method_terms_are() -> None:
    named = rated(heading(1) + "ОН\nНадо спрятать труп.\n")
    assert all(f.age != "18+" for f in named.findings if f.family == "instructions")
    taught = rated(heading(1) + "ОН\nСлушай, вот как сделать бомбу: селитра и сахар. А потом замести следы.\n")
    assert any(f.family == "instructions" and f.age == "18+" for f in taught.findings)


def test_slurs_in_a_long_speech_characterise_the_speaker_and_dense_ones_take_a_stance() -> None:
    filler = "Денег нет, а долги растут, и все кругом требуют своего, и некому помочь. " * 60
    speech = rated(play(f"РАСПЛЮЕВ\n{filler} Ступай к жиду, к хохлу, к жиду. {filler}\n\n"))
    assert all(f.age != "18+" for f in speech.findings if f.family == "hate")
    dense = rated(heading(1, "РЫНОК") + "СКИНХЕД\nПонаехали тут, чурки! Убирайтесь в свою страну, чурки!\n")
    assert dense.rating == "18+"


def test_in_a_play_pervasive_means_a_third_of_the_pages_not_three_of_four_acts() -> None:
    filler = "ГОСТЬ\n" + "Погода нынче хорошая, и сад цветёт, и все мы рады друг другу. " * 40 + "\n\n"
    one_drink = "ГАЕВ\nВыпьем шампанского!\n\n"
    sparse = rated(play(*(one_drink + filler * 3 for _ in range(4))))
    assert all("pervasive" not in f.qualifiers for f in counted(sparse, "alcohol"))
    dense = rated(play(*((one_drink + filler) * 3 for _ in range(4))))
    assert any("pervasive" in f.qualifiers for f in counted(dense, "alcohol"))


def test_two_ways_of_suicide_described_in_dialogue_are_18_plus_and_one_reported_death_is_not() -> None:
    methods = rated(heading(1, "КОМНАТА") + "ДРУГ\nСамый простой способ — наглотаться таблеток снотворного. "
                    "Или вскрыть вены в тёплой ванне, вдоль, а не поперёк. Это грех, конечно.\n")
    found = [f for f in methods.findings if f.family == "suicide"]
    assert methods.rating == "18+" and any("methods" in f.qualifiers and f.age == "18+" for f in found)
    english = rated(heading(1) + "MIKE\nThe easiest way is to swallow the pills with vodka. Or slit your wrists "
                    "in a warm bath, along the vein.\n")
    assert english.rating == "18+"
    reported = rated(play("ДОРН\nУведите отсюда куда-нибудь Ирину Николаевну. Дело в том, что Константин "
                          "Гаврилович застрелился…\n\n"))
    assert reported.rating != "18+" and all("methods" not in f.qualifiers for f in reported.findings)
    exclaimed = rated(play("ЛОМОВ\nНесчастный я человек! Застрелюсь! Повешусь! Утоплюсь!\n\n"))  # names no how
    assert exclaimed.rating != "18+"


def test_a_finding_whose_age_a_rule_moved_within_its_range_carries_the_severity_of_that_age() -> None:
    """So a reviewer who sets a lower severity can never raise the age (review.rules.effective)."""
    from chalicelib.rating.model import age_for

    talk = "ГАЕВ\nВыпьем шампанского! Я пил вчера коньяк и водку, и сегодня выпью.\n\n" * 8
    fools = "ШУТ\nДурак ты, дурак! Сам дурак! Дураки все, идиоты и болваны!\n\n" * 20
    rating = rated(play(talk, fools))
    moved = [f for f in rating.findings if f.age and {"spoken_only", "mild_words", "not_promotion"} & set(f.qualifiers)]
    assert moved and all(age_for(f.severity, f.ages) == f.age for f in moved if f.age in f.ages)


def test_every_qualifier_the_engine_names_has_a_meaning_for_reports() -> None:
    from chalicelib.rating.engine import QUALIFIERS, rules

    assert set(rules().qualifier_meaning) == set(QUALIFIERS)

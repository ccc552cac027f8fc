"""Benchmark the analyzer's matching core on a generated 300-page Russian screenplay (~600 KB).

Prints: the cold run (pymorphy3 load + every distinct token parsed once), warm MB/s (median of
runs), peak memory (tracemalloc over a warm run; max RSS of the process), the naive baseline
(one compiled regex per lexicon term over the same text) and the ratio; and the morphology
comparison that chose pymorphy3 over Snowball (speed uncached, agreement on a gold list).

    .venv/bin/python -m bench.analyze_match [--kb 600] [--runs 5]
"""
from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import time
import tracemalloc
from chalicelib.analysis import load_lexicons, match
from chalicelib.analysis import morphology
from chalicelib.reading.model import Document, Line, Scene

NAMES = ["ИВАН", "МАРИЯ", "ПЁТР", "ОЛЬГА", "СЕРГЕЙ", "АННА", "ДЕД", "СЛЕДОВАТЕЛЬ"]
PLACES = ["КУХНЯ", "ПОДЪЕЗД", "ДВОР", "ОТДЕЛ ПОЛИЦИИ", "ДАЧА", "МАШИНА", "БАР", "ШКОЛА", "ЛЕС", "КВАРТИРА"]
WORDS = ("я ты он она мы вы они это то что как где когда почему зачем тут там уже ещё опять снова сейчас потом "
         "дом дома домой окно окна окном дверь двери дверью стол стола столом стул стулья лампа лампы свет света "
         "говорит говорю сказал сказала скажи смотрит смотрю посмотри идёт иду пошли пришёл пришла ушёл ушла "
         "знаю знаешь знает думаю думаешь думал хочу хочешь хотел может можно нельзя надо нужно время времени "
         "человек люди людей город города улица улице машина машины работа работы деньги денег утро вечер ночь "
         "ночью день днём мама папа брат сестра друг подруга сосед соседка телефон письмо письма книга книги "
         "большой маленький старый новый хороший плохой тихо громко быстро медленно долго вдруг наконец "
         "садится встаёт выходит входит берёт кладёт открывает закрывает молчит улыбается плачет смеётся").split()
SPICE = ("убил нож кровь пистолет водку курит сигарету наркотики казино ставку труп призрак украл драка "
         "выпил пьяный бухал героин покончить с собой вены повесился секс голый поцеловал ударил угрожает "
         "чёрт дурак идиот блин сука бля").split()


def screenplay(kb: int, seed: int = 7) -> list[tuple[str, str, str | None]]:
    """(text, kind, speaker) lines of a generated screenplay of about ``kb`` KB of UTF-8."""
    rnd = random.Random(seed)
    lines: list[tuple[str, str, str | None]] = []
    size = 0
    scene = 0
    while size < kb * 1024:
        scene += 1
        block = [(f"{scene}. {rnd.choice(['ИНТ.', 'НАТ.'])} {rnd.choice(PLACES)} — {rnd.choice(['ДЕНЬ', 'НОЧЬ'])}",
                  "heading", None)]
        for _ in range(rnd.randint(8, 20)):
            words = [rnd.choice(SPICE) if rnd.random() < 0.03 else rnd.choice(WORDS)
                     for _ in range(rnd.randint(4, 18))]
            sentence = " ".join(words).capitalize() + rnd.choice([".", "!", "?", "..."])
            if rnd.random() < 0.4:
                block.append((sentence, "action", None))
            else:
                who = rnd.choice(NAMES)
                block += [(who, "character", None), (sentence, "dialogue", who)]
        lines += block
        size += sum(len(t.encode()) + 1 for t, _, _ in block)
    return lines


def document(lines: list[tuple[str, str, str | None]]) -> Document:
    scenes: list[list[Line]] = []
    for number, (text, kind, speaker) in enumerate(lines, 1):
        if kind == "heading":
            scenes.append([])
        scenes[-1].append(Line(number, text, kind, speaker))
    numbered = [tuple(s) for s in scenes]
    return Document(text="\n".join(text for text, _, _ in lines), source_format="txt", encoding="utf-8",
                    scenes=tuple(Scene(i, str(i), s[0].text, s[0].number, s[-1].number, s)
                                 for i, s in enumerate(numbered, 1)))


def naive(text: str) -> tuple[int, float]:
    """One regex per lexicon term (word-bounded, case-insensitive; phrases with \\s+), counting matches."""
    from chalicelib.analysis.lexicon import read_entries

    terms = {str(t if isinstance(t, str) else t["term"]).lstrip("=").rstrip("*")
             for e in read_entries() for lang in ("ru", "en") for group in (e.get(lang) or {}).values() for t in group}
    patterns = [re.compile(r"\b" + r"\s+".join(map(re.escape, t.split())) + r"\b", re.IGNORECASE) for t in terms]
    start = time.perf_counter()
    count = sum(len(p.findall(text)) for p in patterns)
    return count, time.perf_counter() - start


# (form, lemma) pairs that must share a key, and pairs of different words that must not.
SAME = [("убил", "убить"), ("убью", "убить"), ("убивал", "убивать"), ("зарезал", "зарезать"), ("крови", "кровь"),
        ("кровью", "кровь"), ("ножом", "нож"), ("ножи", "нож"), ("пьёт", "пить"), ("пил", "пить"), ("выпил", "выпить"),
        ("пьян", "пьяный"), ("пьяная", "пьяный"), ("курит", "курить"), ("курю", "курить"), ("сигарету", "сигарета"),
        ("кололся", "колоться"), ("нюхал", "нюхать"), ("героина", "героин"), ("закладки", "закладка"),
        ("повесился", "повеситься"), ("собой", "себя"), ("вены", "вена"), ("вскрыл", "вскрыть"), ("трупы", "труп"),
        ("призраки", "призрак"), ("украл", "украсть"), ("крадёт", "красть"), ("ограбили", "ограбить"),
        ("людей", "человек"), ("шёл", "идти"), ("лёг", "лечь"), ("бьёт", "бить"), ("избил", "избить"),
        ("дрался", "драться"), ("стреляй", "стрелять"), ("застрелил", "застрелить"), ("детей", "ребёнок"),
        ("умер", "умереть"), ("мёртвые", "мёртвый")]
DIFFERENT = [("убийца", "убить"), ("бить", "быть"), ("курица", "курить"), ("вина", "вино"), ("мир", "мирить"),
             ("пистолет", "пистон"), ("травма", "трава"), ("стали", "сталь"), ("нос", "носить"), ("кровать", "кровь"),
             ("казино", "казнь"), ("ставка", "ставня"), ("лечь", "лечить"), ("пила", "пилот"), ("рана", "рано")]


def morphology_report() -> None:
    ru_key = lambda w: morphology.ru_lemmas(morphology.fold(w))  # noqa: E731
    sn_key = lambda w: (morphology.ru_stem(morphology.fold(w)),)  # noqa: E731
    sample = [w for t, _, _ in screenplay(200, seed=3) for w in morphology.tokens(t) if morphology.CYRILLIC.search(w)]
    distinct = sorted(set(sample))
    for name, key, raw in (("pymorphy3", ru_key, morphology.ru_lemmas.__wrapped__),
                           ("snowball", sn_key, morphology.ru_stem.__wrapped__)):
        raw(distinct[0])  # load dictionaries / stemmer
        start = time.perf_counter()
        for word in distinct:
            raw(word)
        per_s = len(distinct) / (time.perf_counter() - start)
        same = sum(bool(set(key(a)) & set(key(b))) for a, b in SAME)
        apart = sum(not (set(key(a)) & set(key(b))) for a, b in DIFFERENT)
        print(f"  {name:9s}: {per_s:9,.0f} distinct words/s uncached; forms joined {same}/{len(SAME)}, "
              f"different words kept apart {apart}/{len(DIFFERENT)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    lines = screenplay(args.kb)
    doc = document(lines)
    text = "\n".join(t for t, _, _ in lines)
    mb = len(text.encode()) / 1e6
    print(f"text: {mb * 1000:.0f} KB UTF-8, {len(lines)} lines, {len(doc.scenes)} scenes, "
          f"{len(set(morphology.tokens(text)))} distinct tokens")

    start = time.perf_counter()
    load_lexicons()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    hits = match(doc)
    cold = time.perf_counter() - start
    print(f"cold: compile lexicons {compile_s:.2f} s (pymorphy3 load included), first match {cold:.2f} s, "
          f"{len(hits)} hits")

    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        match(doc)
        times.append(time.perf_counter() - start)
    warm = statistics.median(times)
    print(f"warm: {warm * 1000:.0f} ms median of {args.runs} → {mb / warm:.1f} MB/s")

    tracemalloc.start()
    match(doc)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: tracemalloc peak during a warm match {peak / 1e6:.1f} MB; process max RSS {rss:.0f} MB")

    if not args.skip_naive:
        count, naive_s = naive(text)
        print(f"naive: one regex per term, {naive_s:.2f} s ({mb / naive_s:.2f} MB/s, {count} raw matches, no "
              f"morphology) → matcher is {naive_s / warm:.0f}× faster warm, {naive_s / cold:.1f}× cold")
    print("morphology (Russian):")
    morphology_report()


if __name__ == "__main__":
    main()

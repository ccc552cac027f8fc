"""What each line of a plain-text screenplay or play is: scene headings, character cues, dialogue
(and who speaks it), parentheticals, transitions, action.

Headings:
- screenplay sluglines: ``ИНТ.``/``НАТ.``/``ЭКСТ.``/``ИНТ./НАТ.``, ``INT.``/``EXT.``/``I/E.``/
  ``INT./EXT.``, without the dot when upper case (``INT HOUSE - DAY``), optionally numbered at
  either or both ends (``12. ИНТ. КВАРТИРА — НОЧЬ``, ``12А ИНТ. …``, ``12 INT. HOUSE - DAY 12``),
  and numbered upper-case lines that name ИНТ/НАТ/INT/EXT later (``3. КВАРТИРА. ИНТ. НОЧЬ``);
- plays: ``ДЕЙСТВИЕ``/``АКТ``/``ACT`` (acts) and ``ЯВЛЕНИЕ``/``СЦЕНА``/``КАРТИНА``/``SCENE``
  (scenes) with a Roman, Arabic or spelled-out number on either side (``Действие первое``,
  ``ВТОРОЕ ДЕЙСТВИЕ``, ``ACT I, SCENE 2``), and ``ПРОЛОГ``/``ЭПИЛОГ``/``PROLOGUE``/``EPILOGUE``.
  A scene inside an act is labelled ``<act in Roman>.<scene>`` (``I.3``).

Speakers:
- a character cue: an upper-case name of at most five words (extensions such as ``(V.O.)``,
  ``(ЗК)``, ``(за кадром)``, ``(CONT'D)`` allowed and left out of the name) directly followed by
  its speech; the lines after it up to a blank line, a heading, a transition or another speaker are
  its dialogue (``(…)`` lines its parentheticals). Where the format shows indentation, a line
  indented clearly less than the speech's first line ends it;
- a play's speaker prefix: ``ИВАН. Текст``, ``ИВАН (тихо). Текст``, ``Иван: текст``. A prefix
  counts when the same name prefixes at least two lines of the document (or, upper case, carries a
  remark in brackets), so ``ТИШИНА. Все замирают.`` or ``Примечание: …`` once is not a speaker.
"""
from __future__ import annotations

import re

from chalicelib.reading.text import Raw

_NUM = r"\d{1,4}[A-ZА-ЯЁ]{0,2}"
_SLUG = (r"(?:INT\.?\s*/\s*EXT|EXT\.?\s*/\s*INT|I\s*/\s*E|E\s*/\s*I|ИНТ\.?\s*[/-]\s*НАТ|НАТ\.?\s*[/-]\s*ИНТ"
         r"|ИНТЕРЬЕР|ЭКСТЕРЬЕР|НАТУРА|ИНТ|НАТ|ЭКСТ|INT|EXT|EST)")
_SLUGLINE = re.compile(rf"^(?:(?P<n1>{_NUM})[.):]?\s+)?(?P<slug>{_SLUG})(?P<sep>\.\s*|:\s*|\s+)(?P<rest>.*?)"
                       rf"(?:\s+(?P<n2>{_NUM})\.?)?$", re.I)
_NUMBERED_SLUG = re.compile(rf"^(?P<n1>{_NUM})[.)]\s+\S.*\b(?:ИНТ|НАТ|ЭКСТ|INT|EXT)\b")

_ACT = r"ДЕЙСТВИЕ|АКТ|ACT"
_SCENE = r"ЯВЛЕНИЕ|СЦЕНА|КАРТИНА|SCENE"
_WORDNUM = r"[IVXLC]+|\d{1,3}|[^\W\d_]+"
_PLAY = re.compile(
    rf"^(?:(?P<kw>{_ACT}|{_SCENE})\s+(?P<num>{_WORDNUM})|(?P<numb>[^\W\d_]+)\s+(?P<kwb>{_ACT}|{_SCENE}))"
    rf"(?:\s*[.,:;—–-]?\s*(?:(?P<kw2>{_SCENE})\s+(?P<num2>{_WORDNUM})|(?P<num2b>[^\W\d_]+)\s+(?P<kw2b>{_SCENE})))?"
    r"(?P<rest>\W.*)?$", re.I)
# Cheap test before _PLAY and _BOOKEND: one of their keywords starts the first or second word.
_PLAY_HINT = re.compile(r"(?:\S+ )?(?:действие|акт|act|явление|сцена|картина|scene|пролог|эпилог|prologue|epilogue)",
                        re.I)


_BOOKEND = re.compile(r"^(?:ПРОЛОГ|ЭПИЛОГ|PROLOGUE|EPILOGUE)(?:\W.{0,80})?$", re.I)

_TRANSITION = re.compile(
    r"^(?:(?:[A-Z]+ )?(?:CUT|DISSOLVE|FADE|WIPE) TO|FADE (?:IN|OUT)|FADE TO BLACK|CUT TO BLACK|ЗТМ|ИЗ ЗТМ|ЗАТЕМНЕНИЕ"
    r"|ВЫХОД ИЗ ЗАТЕМНЕНИЯ|СМЕНА КАДРА|НАПЛЫВ|ПЕРЕХОД|СКЛЕЙКА|[A-ZА-ЯЁ ]{2,30} (?:TO|НА))[.:]?$")
_NOT_A_NAME = re.compile(
    r"^(?:INT|EXT|ИНТ|НАТ|ЭКСТ|ДЕЙСТВИЕ|ЯВЛЕНИЕ|СЦЕНА|КАРТИНА|SCENE|ACT|АКТ|ТИТР|ТИТРЫ|НАДПИСЬ|SUPER|TITLE|TITLES"
    r"|CLOSE|ANGLE|POV|INSERT|BACK|FLASHBACK|ФЛЭШБЭК|ФЛЕШБЭК|КРУПНО|КРУПНЫЙ|ПЛАН|THE END|КОНЕЦ|END|MONTAGE|МОНТАЖ"
    r"|LATER|ПОЗЖЕ|NOTE|ПРИМЕЧАНИЕ|ВНИМАНИЕ|ВРЕМЯ|МЕСТО|АВТОР|AUTHOR|ДЕЙСТВУЮЩИЕ|ПЕРСОНАЖИ|CHARACTERS|CAST"
    r"|SERIES|SUBTITLE|СУБТИТР|ЗТМ|CUT|FADE|DISSOLVE)\b", re.I)

_NAME = r"[^\W\d_][^\W_]*(?:['’.-][^\W\d_]+)*"
_CUE = re.compile(rf"^(?P<name>{_NAME}(?: {_NAME}){{0,4}})\s*(?P<ext>(?:\([^()]{{1,40}}\)\s*)*)(?P<end>[.:]?)$")
_PREFIX_CAPS = re.compile(rf"^(?P<name>{_NAME}(?: {_NAME}){{0,3}})\s*(?P<paren>\([^()]{{1,80}}\))?\s*[.:]\s+(?P<rest>\S.*)$")
_PREFIX_COLON = re.compile(rf"^(?P<name>{_NAME}(?: {_NAME}){{0,2}})\s*(?P<paren>\([^()]{{1,80}}\))?:\s+(?P<rest>\S.*)$")
# "Лопахин. Пришел поезд." / "Ham. To be": how Russian plays are printed (and abbreviated English
# ones); every word capitalised, and only in a document printed that way (see ``classify``).
_PREFIX_DOT = re.compile(r"^(?P<name>[A-ZА-ЯЁ][^\W\d_]*(?:[ -][A-ZА-ЯЁ][^\W\d_]*){0,2})\s*(?P<paren>\([^()]{1,80}\))?"
                         r"\.\s+(?P<rest>\S.*)$")
# Capitalised words that start sentences, not speeches: "Да. Конечно." "Пауза. Входит Фирс."
_NOT_A_SPEAKER = frozenset((
    "да нет ну вот так ах ох эх ой ага угу что как кто где когда почему зачем тут там он она оно они мы вы я ты "
    "это то все всё пауза тишина занавес конец ночь утро день вечер темнота молчание смех шум стук звонок "
    "входит входят уходит уходят выходит выходят "
    "yes no well oh ah so then now here there he she it they we you i this that all pause silence curtain "
    "end night morning day evening exit exeunt enter enters"
).split())
DOT_SHARE = 0.05  # prefixed lines a document must have to be printed "Name. Speech"
DOT_MIN_COUNT = 3  # lines one name must prefix
_SPEECH_END = re.compile(r"[!?.…]$")

_ORDINALS_RU = ("перв", "втор", "трет", "четв[её]рт", "пят", "шест", "седьм", "восьм", "девят", "десят",
                "одиннадцат", "двенадцат", "тринадцат", "четырнадцат", "пятнадцат", "шестнадцат", "семнадцат",
                "восемнадцат", "девятнадцат", "двадцат")
_RU_ORDINAL = [(re.compile(rf"^{stem}(?:ое|ый|ая|ой|ий|ье|ья|ия|ие)$"), n) for n, stem in enumerate(_ORDINALS_RU, 1)]
_EN_WORDS = {w: n for n, ws in enumerate((
    ("one", "first"), ("two", "second"), ("three", "third"), ("four", "fourth"), ("five", "fifth"), ("six", "sixth"),
    ("seven", "seventh"), ("eight", "eighth"), ("nine", "ninth"), ("ten", "tenth"), ("eleven", "eleventh"),
    ("twelve", "twelfth"), ("thirteen", "thirteenth"), ("fourteen", "fourteenth"), ("fifteen", "fifteenth"),
    ("sixteen", "sixteenth"), ("seventeen", "seventeenth"), ("eighteen", "eighteenth"), ("nineteen", "nineteenth"),
    ("twenty", "twentieth")), 1) for w in ws}
_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def number(word: str | None) -> int | None:
    """12, XII, двенадцатое, twelfth, twelve → 12; anything else → None."""
    if not word:
        return None
    if word.isdigit():
        return int(word)
    upper = word.upper()
    if _ROMAN.match(upper):
        total = 0
        for a, b in zip(upper, upper[1:] + " "):
            value = _ROMAN_VALUES[a]
            total += -value if b != " " and _ROMAN_VALUES[b] > value else value
        return total
    lower = word.lower()
    if lower in _EN_WORDS:
        return _EN_WORDS[lower]
    for pattern, n in _RU_ORDINAL:
        if pattern.match(lower):
            return n
    return None


def roman(n: int) -> str:
    out = []
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def _is_upper(text: str) -> bool:
    return text.isupper()   # at least one cased character, and no lower-case one


def heading(text: str) -> tuple[str, str | None, int | None, int | None] | None:
    """(level, screenplay label, act, scene) when the line is a heading, else None."""
    if len(text) > 160:
        return None
    first = text[:1]
    if first.isdigit() or first in "ИНЭIEНинэieн" or first.upper() in "ИНЭIE":
        m = _SLUGLINE.match(text)
        if m and any(c.isalpha() for c in m.group("rest")):
            slug, sep, rest = m.group("slug"), m.group("sep"), m.group("rest")
            if sep.strip() or (_is_upper(slug) and _is_upper(rest)):
                n1, n2 = m.group("n1"), m.group("n2")
                label = n1 or (n2 if n2 and re.search(r"\s[-–—]\s", rest) else None)
                return "scene", label, None, None
        if first.isdigit() and _is_upper(text):
            m = _NUMBERED_SLUG.match(text)
            if m:
                return "scene", m.group("n1"), None, None
    if len(text) <= 120 and _PLAY_HINT.match(text):
        m = _PLAY.match(text)
        if m:
            kw = m.group("kw") or m.group("kwb")
            n = number(m.group("num") or m.group("numb"))
            kw2 = m.group("kw2") or m.group("kw2b")
            n2 = number(m.group("num2") or m.group("num2b"))
            if n is not None and (kw2 is None or n2 is not None):
                if re.match(_ACT, kw, re.I):
                    return ("scene", None, n, n2) if kw2 else ("act", None, n, None)
                return "scene", None, None, n
        if _BOOKEND.match(text):
            return "act", None, None, None
    return None


def is_transition(text: str) -> bool:
    return len(text) <= 40 and text.isupper() and bool(_TRANSITION.match(text))  # every transition is upper case


def speaker_name(name: str) -> str:
    """A cue or prefix without its extensions and closing punctuation: ``ИВАН (ЗК)`` → ``ИВАН``."""
    return re.sub(r"\s*\([^()]*\)", "", name).strip().rstrip(".:").strip()


def cue(text: str) -> str | None:
    """The speaker's name when the line looks like a character cue (upper case, short)."""
    if len(text) > 60 or not _is_upper(text.split("(", 1)[0]):
        return None
    m = _CUE.match(text)
    if not m or _NOT_A_NAME.match(m.group("name")):
        return None
    return m.group("name")


def prefix(text: str, counts: dict[str, int] | None, dots: bool = False) -> tuple[str, str, bool] | None:
    """(speaker, speech) for ``ИВАН. Текст``, ``ИВАН (тихо). Текст``, ``Иван: текст`` and, where the
    document is printed that way (``dots``), ``Иван. Текст`` (the third item says it was that
    form). With ``counts`` None, every candidate is returned (the counting pass)."""
    head = text[:120]
    colon = ":" in head
    if not colon and "." not in head:
        return None
    letters = 0
    while letters < len(text) and text[letters].isalpha():
        letters += 1
    caps = _is_upper(text[:letters])  # an upper-case prefix's name starts with an upper-case word
    m = _PREFIX_CAPS.match(text) if caps else None
    if m and _is_upper(m.group("name")) and not _NOT_A_NAME.match(m.group("name")):
        name = m.group("name")
        if counts is None or counts.get(name, 0) >= 2 or m.group("paren"):
            return name, m.group("rest"), False
    m = _PREFIX_COLON.match(text) if colon else None
    if m and not _is_upper(m.group("name")) and all(w[:1].isupper() for w in m.group("name").split()) \
            and not _NOT_A_NAME.match(m.group("name")):
        name = m.group("name")
        if counts is None or counts.get(name, 0) >= 2:
            return name, m.group("rest"), False
    if (dots or counts is None) and not caps:
        return dot_prefix(text, counts)
    return None


def dot_prefix(text: str, counts: dict[str, int] | None) -> tuple[str, str, bool] | None:
    """``Лопахин. Текст`` when ``Лопахин`` prefixes at least ``DOT_MIN_COUNT`` lines (any, with ``counts`` None)."""
    m = _PREFIX_DOT.match(text)
    if not m or m.group("name").isupper() or m.group("name").lower() in _NOT_A_SPEAKER:
        return None
    name = m.group("name")
    if _NOT_A_NAME.match(name) or (counts is not None and counts.get(name, 0) < DOT_MIN_COUNT):
        return None
    return name, m.group("rest"), True


def classify(raws: list[Raw]) -> None:
    """Fill kind, speaker, label and level of every non-blank line, in place."""
    counts: dict[str, int] = {}
    candidates: list[bool] = []  # a line that is no prefix candidate is no prefix with counts either
    dotted: list[str] = []  # the names of "Имя. Текст" candidates, line by line
    lines = 0
    for raw in raws:
        found = prefix(raw.text, None) if raw.text else None
        lines += bool(raw.text)
        candidates.append(found is not None)
        if found:
            counts[found[0]] = counts.get(found[0], 0) + 1
            if found[2]:
                dotted.append(found[0])
    # Printed "Имя. Текст": such lines, of names that recur, are a share of the document's lines
    # (a screenplay's "Да. Конечно." inside a speech never makes it so).
    dots = sum(1 for name in dotted if counts[name] >= DOT_MIN_COUNT) >= max(DOT_MIN_COUNT * 2, lines * DOT_SHARE)

    act: int | None = None
    speaker: str | None = None      # whose speech the following lines continue
    speech_indent: float | None = None
    n = len(raws)
    for i, raw in enumerate(raws):
        text = raw.text
        if not text:
            speaker = None
            continue
        found = heading(text)
        if found:
            level, label, act_n, scene_n = found
            if level == "act":
                act = act_n
                label = roman(act_n) if act_n else None
            elif act_n is not None:
                act = act_n
                label = f"{roman(act_n)}.{scene_n}" if scene_n is not None else roman(act_n)
            elif scene_n is not None:
                label = f"{roman(act)}.{scene_n}" if act else str(scene_n)
            raw.kind, raw.label, raw.level, speaker = "heading", label, level, None
            continue
        if is_transition(text):
            raw.kind, speaker = "transition", None
            continue
        name = cue(text)
        if name is not None:
            nxt = raws[i + 1].text if i + 1 < n else ""
            if nxt and not heading(nxt) and not is_transition(nxt) and (
                    any(c.islower() for c in nxt) or nxt.startswith("(")
                    or (not text.endswith((".", ":")) and _SPEECH_END.search(nxt) and cue(nxt) is None)):
                speaker = speaker_name(name)
                raw.kind, raw.speaker, speech_indent = "character", speaker, None
                continue
        said = prefix(text, counts, dots) if candidates[i] else None
        if said is not None:
            speaker = speaker_name(said[0])
            raw.kind, raw.speaker, speech_indent = "dialogue", speaker, raw.indent
            continue
        if speaker is not None:
            if speech_indent is None:
                speech_indent = raw.indent
            elif raw.indent is not None and speech_indent > 0 and raw.indent < speech_indent * 0.6:
                speaker = None
            if speaker is not None:
                kind = "parenthetical" if text.startswith("(") and text.endswith(")") else "dialogue"
                raw.kind, raw.speaker = kind, speaker
                continue
        raw.kind = "action"

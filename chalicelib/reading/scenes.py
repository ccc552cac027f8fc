"""Numbered lines and scenes from classified lines.

The text keeps one blank line where the source had one or more (none at either end); every other
line is a ``Line`` whose number is its 1-based position in that text. A scene runs from its
heading to the line before the next heading; lines before the first heading are a preamble scene
(heading ``""``) whose lines are all ``other`` but transitions: a title page or a cast list
reads like cues and speech without being either. An act heading followed directly by a scene heading opens that scene (``ДЕЙСТВИЕ
ПЕРВОЕ`` / ``ЯВЛЕНИЕ ПЕРВОЕ`` make one scene ``I.1`` whose lines start at the act's line). A
document without any heading is cut into scenes of blank-line-separated blocks of about
``FALLBACK_LINES`` non-blank lines (a new scene starts at the first block boundary past
``FALLBACK_LINES`` lines, or after ``2 * FALLBACK_LINES`` lines without one), labelled by their
order.
"""
from __future__ import annotations

from chalicelib.reading.model import Document, Line, Scene
from chalicelib.reading.text import Raw

FALLBACK_LINES = 60


def build(raws: list[Raw], source_format: str, encoding: str | None) -> Document:
    texts: list[str] = []
    numbered: list[tuple[Line, Raw]] = []
    blank = True        # drop blank lines at the start and runs of them
    for raw in raws:
        if not raw.text:
            if not blank:
                texts.append("")
                blank = True
            continue
        texts.append(raw.text)
        blank = False
        numbered.append((Line(len(texts), raw.text, raw.kind or "action", raw.speaker), raw))
    while texts and not texts[-1]:
        texts.pop()

    if any(raw.kind == "heading" for _, raw in numbered):
        groups = _by_headings(numbered)
    else:
        groups = _by_blocks(numbered)
    scenes = []
    for index, (heading, label, lines) in enumerate(groups, 1):
        scenes.append(Scene(index, label or str(index), heading, lines[0].number, lines[-1].number, tuple(lines)))
    return Document("\n".join(texts), tuple(scenes), source_format, encoding)


def _by_headings(numbered: list[tuple[Line, Raw]]) -> list[tuple[str, str | None, list[Line]]]:
    groups: list[tuple[str, str | None, list[Line]]] = []
    heading, label, lines = "", None, []
    only_act = False         # the current group holds nothing but an act heading so far
    preamble = True
    for line, raw in numbered:
        if raw.kind == "heading":
            if only_act and raw.level == "scene":
                heading, label = line.text, raw.label
                lines.append(line)
                only_act = False
                continue
            if lines:
                groups.append((heading, label, lines))
            heading, label, lines = line.text, raw.label, [line]
            only_act = raw.level == "act"
            preamble = False
            continue
        if preamble and line.kind != "transition":
            line = Line(line.number, line.text, "other", None)   # a title page, a cast list
        lines.append(line)
        only_act = False
    if lines:
        groups.append((heading, label, lines))
    return groups


def _by_blocks(numbered: list[tuple[Line, Raw]]) -> list[tuple[str, str | None, list[Line]]]:
    groups: list[tuple[str, str | None, list[Line]]] = []
    lines: list[Line] = []
    previous = 0
    for line, _ in numbered:
        block_starts = line.number > previous + 1
        if lines and (len(lines) >= FALLBACK_LINES and block_starts or len(lines) >= 2 * FALLBACK_LINES):
            groups.append(("", None, lines))
            lines = []
        lines.append(line)
        previous = line.number
    if lines:
        groups.append(("", None, lines))
    return groups

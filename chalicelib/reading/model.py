"""What reading a screenplay yields: the document's plain text, split into scenes of numbered lines.

This is the interface the lexicon matcher and the analyzer build on: keep the names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

KINDS = ("heading", "action", "dialogue", "character", "parenthetical", "transition", "other")
FORMATS = ("txt", "docx", "pdf", "fdx", "srt", "vtt")


class UnreadableDocument(ValueError):
    """The file cannot be read as a screenplay: empty, too large, hostile, broken, or not a format
    we read. ``reason`` is one short English sentence fit to show the uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Line(NamedTuple):
    """Immutable; a named tuple rather than a frozen dataclass because a long script makes tens of
    thousands of them and a tuple is built in a third of the time."""

    number: int            # 1-based line number in the extracted plain text
    text: str
    kind: str              # "heading" | "action" | "dialogue" | "character" | "parenthetical" | "transition" | "other"
    speaker: str | None    # for dialogue/parenthetical (and the character cue itself): who speaks


@dataclass(frozen=True)
class Scene:
    index: int             # 1-based order in the document
    label: str             # the scene's number as the script gives it ("12", "12A", "I.3"), else str(index)
    heading: str           # the heading line, "" for a preamble before the first heading
    start_line: int
    end_line: int
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Document:
    text: str              # the extracted plain text (lines joined by "\n"); line numbers refer to it
    scenes: tuple[Scene, ...]
    source_format: str     # "txt" | "docx" | "pdf" | "fdx" | "srt" | "vtt"
    encoding: str | None

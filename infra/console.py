"""The local stack's console: bulk task log lines as they are stored, coloured by level.

Registered by ``infra.stack.Stack`` as a sink of ``chalicelib.bulk.logs`` (the app itself only
stores lines; on AWS they reach people through the API and the live channel).
"""
from __future__ import annotations

import sys
from typing import Any, TextIO

COLOURS = {"info": "\033[36m", "warning": "\033[33m", "error": "\033[1;31m"}
RESET = "\033[0m"


def format_line(task_id: str, line: dict[str, Any], colour: bool = True) -> str:
    """``bulk <task8> #seq [account] LEVEL message``; ANSI colour by level unless ``colour`` is off.
    Control characters in the message are escaped so a file name cannot move the cursor."""
    message = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in line["message"])
    level = line["level"].upper()
    text = f"bulk {task_id[:8]} #{line['seq']} [{line['account'] or '-'}] {level:<7} {message}"
    return f"{COLOURS.get(line['level'], '')}{text}{RESET}" if colour else text


class ConsoleSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, task_id: str, line: dict[str, Any]) -> None:
        colour = getattr(self.stream, "isatty", lambda: False)()
        print(format_line(task_id, line, colour), file=self.stream, flush=True)

"""Pause Python's cyclic garbage collector around allocation-heavy work that makes no cycles.

Reading and rating a 300-page script builds tens of thousands of short-lived lines, tokens and
hits (tuples and slotted objects, freed by reference counting). Every 700 allocations the cyclic
collector walks them and finds nothing to free: about a tenth of the analysis time
(``python -m bench.analyze``). Whatever cycle does form is collected at the next pass after.
"""
from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_cycle_collection(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():  # nested, or the caller paused it: leave it as it is
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused

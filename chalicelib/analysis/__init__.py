"""The matching core of the rating: lexicons per category family (Russian and English), word forms
by morphology, phrases, negation and obscene roots through obfuscations. Pure: no AWS.

``match(document) -> list[Hit]`` reads any document with ``scenes`` → ``lines`` (the reader's
``chalicelib.reading.Document``, by duck typing); ``load_lexicons(path=None)`` compiles the data
files in ``lexicons/`` once per container. pymorphy3 is imported on first use only.
"""
from chalicelib.analysis.lexicon import load_lexicons
from chalicelib.analysis.matching import Hit, match

__all__ = ["Hit", "load_lexicons", "match"]

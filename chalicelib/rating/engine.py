"""From a read document and the catalog to a rating (first cut: every hit's scene is a mild finding)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.rating.model import Category, Finding, Rating, age_for, highest_age


def rate(document: Any, catalog: Sequence[Category]) -> Rating:
    from chalicelib.analysis import match

    by_lexicon: dict[str, Category] = {}
    for category in catalog:
        for lexicon in category.lexicons:
            by_lexicon.setdefault(lexicon, category)
    scenes = {scene.index: scene for scene in document.scenes}
    found: dict[tuple[str, int], Finding] = {}
    for hit in match(document):
        category = by_lexicon.get(hit.lexicon)
        if category is None or hit.negated or (category.id, hit.scene_index) in found:
            continue
        scene = scenes[hit.scene_index]
        found[(category.id, hit.scene_index)] = Finding(
            category=category.id, category_name=category.name, severity="mild",
            age=age_for("mild", category.ages), basis=category.basis or "", qualifiers=(),
            scene=hit.scene_index, scene_label=scene.label, line=hit.line, excerpt=hit.excerpt,
            labelling=category.labelling)
    findings = list(found.values())
    return Rating(rating=highest_age(f.age for f in findings), findings=findings,
                  labelling=sorted({f.labelling for f in findings if f.labelling}))

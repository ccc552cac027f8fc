"""The violations table: one row per category, keyed by its id."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute

from chalicelib import db
from chalicelib.provider import settings


class ViolationRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().violations_table

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    context = UnicodeAttribute(null=True)
    ages = ListAttribute(of=UnicodeAttribute, default=list)  # ascending, from rules.AGES
    labelling = UnicodeAttribute(null=True)  # a labelling duty instead of (or beside) an age
    factors = ListAttribute(of=UnicodeAttribute, default=list)  # what raises or lowers severity
    basis = UnicodeAttribute(null=True)  # the 436-FZ article, part and point
    lexicons = ListAttribute(of=UnicodeAttribute, default=list)  # the analyzer's lexicon entries
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

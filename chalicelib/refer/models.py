"""Analysis results: one row per (file, analyzer principal); the document itself lives in S3."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib import db
from chalicelib.provider import settings


class ResultRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().results_table

    file_id = UnicodeAttribute(hash_key=True)
    analyzer = UnicodeAttribute(range_key=True)  # the `sub` of the analyzer's token
    name = UnicodeAttribute()
    version = UnicodeAttribute()
    rating = UnicodeAttribute(null=True)
    findings = NumberAttribute()
    sha256 = UnicodeAttribute()  # of the canonical document: the same post again is a no-op
    document_key = UnicodeAttribute()
    refer_issue = NumberAttribute()
    posted_at = UnicodeAttribute()

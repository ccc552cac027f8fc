"""The findings table: one partition per file holding its findings, comments, the owner's
conclusion and one ingestion mark per analyzer. Sort keys say what a row is:

- ``F#<finding id>``: a finding (stable id: ``ids.derived_id`` of file, analyzer, category,
  scene, line, ordinal), so re-ingesting the same result rewrites the same rows;
- ``C#<n>``: the file's n-th comment (n from an atomic counter on the files row), from a person
  (``user``) or an analyzer (``ai``), so they list in the order they came;
- ``M#<analyzer>``: which result of that analyzer (sha256) is written, for which run;
- ``CONCLUSION``: the owner's conclusion text for the recommendation;
- ``W#<workbook key>``: when a large report workbook was last asked of the analysis queue
  (``pipeline.request_workbook``: one build per report state, not one per poll).

All reads are per file (a Query on the partition), so one table serves them all.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib import db
from chalicelib.provider import settings

FINDING, COMMENT, MARK, CONCLUSION = "F#", "C#", "M#", "CONCLUSION"


class _Row(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().findings_table

    file_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class FindingItem(_Row):
    """Key fields as attributes; the rest (category, severity, age, ages, basis, qualifiers,
    scene, scene_label, heading, line, excerpt, evidence, labelling, advice, comment,
    written_at) as one compact JSON text: findings are only ever read per file, never filtered
    by a field, and one attribute (de)serializes far faster than twenty (on DynamoDB and most
    of all on moto, whose serializer costs per attribute)."""

    id = UnicodeAttribute()
    analyzer = UnicodeAttribute()  # the posting analyzer's `sub`
    data = UnicodeAttribute()


class CommentItem(_Row):
    id = UnicodeAttribute()
    source = UnicodeAttribute()  # "user" | "ai"
    author = UnicodeAttribute()
    finding_id = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    severity = UnicodeAttribute(null=True)
    scene = UnicodeAttribute(null=True)
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()


class MarkItem(_Row):
    sha256 = UnicodeAttribute()
    run = NumberAttribute()
    findings = NumberAttribute()
    written_at = UnicodeAttribute()


class ConclusionItem(_Row):
    text = UnicodeAttribute()
    author = UnicodeAttribute()
    updated_at = UnicodeAttribute()

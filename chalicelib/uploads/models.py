"""The files table: one row per file, with indexes for an owner's files and for open uploads."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib import db
from chalicelib.provider import settings
from chalicelib.status import FileStatus

OPEN_UPLOAD = "OPEN"
REFER_DUE = "DUE"


class ByOwner(GlobalSecondaryIndex["FileRow"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OpenUploads(GlobalSecondaryIndex["FileRow"]):
    """Sparse: only files still waiting for their upload carry ``open_upload``."""

    class Meta:
        index_name = "open_uploads"
        projection = AllProjection()

    open_upload = UnicodeAttribute(hash_key=True)
    upload_deadline = NumberAttribute(range_key=True)


class ReferTimers(GlobalSecondaryIndex["FileRow"]):
    """Sparse: only files whose refer key has an event still to come (a rotation or an expiry)
    carry ``refer_timer``, so repairing lost timers costs per active key, never per file."""

    class Meta:
        index_name = "refer_timers"
        projection = AllProjection()

    refer_timer = UnicodeAttribute(hash_key=True)
    refer_due_at = NumberAttribute(range_key=True)


class FileRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().files_table

    file_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    filename = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    kind = UnicodeAttribute()
    target_audience = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=FileStatus.PENDING.value)  # moved only by chalicelib.status
    sequence = NumberAttribute(default=1)  # +1 with every event of this file (status.transition)
    status_at = UnicodeAttribute()
    error = UnicodeAttribute(null=True)
    object_key = UnicodeAttribute()
    upload_id = UnicodeAttribute()
    part_size = NumberAttribute()
    part_count = NumberAttribute()
    part_checksum = UnicodeAttribute(null=True)
    upload_deadline = NumberAttribute()
    open_upload = UnicodeAttribute(null=True)
    completed = BooleanAttribute(default=False)
    stored_size = NumberAttribute(null=True)
    stored_etag = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Refer key (chalicelib.refer): never the key itself, only what derives and checks it.
    refer_issue = NumberAttribute(default=0)
    refer_issued_at = NumberAttribute(null=True)
    refer_frozen_window = NumberAttribute(null=True)
    refer_frozen_at = NumberAttribute(null=True)
    refer_downloaders = UnicodeSetAttribute(null=True)
    refer_event = UnicodeAttribute(null=True)  # the last key event: issued, rotated, frozen, expired
    refer_window = NumberAttribute(null=True)  # the window that event announced
    refer_timer = UnicodeAttribute(null=True)
    refer_due_at = NumberAttribute(null=True)
    # Bulk uploads (chalicelib.bulk): the task and account a file belongs to, so the files
    # stream can attribute its moves; stored_at is when it was stored and verified (or refused).
    bulk_task = UnicodeAttribute(null=True)
    bulk_account = UnicodeAttribute(null=True)
    stored_at = UnicodeAttribute(null=True)
    # Rating (chalicelib.review): the derived plain text, the ratings, re-analysis runs.
    error_code = UnicodeAttribute(null=True)  # machine-readable reason of ``error`` (e.g. "unclaimed")
    text_key = UnicodeAttribute(null=True)  # S3 key of the derived plain text (derived/<file_id>.txt)
    rating = UnicodeAttribute(null=True)  # final: after people's severity overrides
    ai_rating = UnicodeAttribute(null=True)  # from the analyzers' findings alone
    rated_at = UnicodeAttribute(null=True)
    rating_version = NumberAttribute(null=True)  # +1 with every rating write (optimistic concurrency)
    analysis_run = NumberAttribute(default=0)  # re-analyses asked for (POST /files/{id}/analysis)
    rated_run = NumberAttribute(null=True)  # the run whose findings are written
    comment_count = NumberAttribute(default=0)
    ai_comment_count = NumberAttribute(null=True)  # of those, analyzers' (capped apart: chalicelib.review.comments)
    by_owner = ByOwner()
    open_uploads = OpenUploads()
    refer_timers = ReferTimers()

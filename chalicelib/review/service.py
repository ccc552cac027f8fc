"""The file-level parts of rating: the target audience and the derived plain text."""
from __future__ import annotations

from chalicelib.errors import Conflict
from chalicelib.provider import client, settings
from chalicelib.status import guarded_update
from chalicelib.uploads.models import FileRow
from chalicelib.uploads.objects import content_disposition


def set_target(row: FileRow, target: str | None) -> FileRow:
    """Any status: the report reads the target when it is asked for, so no re-analysis. The change
    is an event of the file (``sequence + 1``)."""
    if row.target_audience != target:
        action = FileRow.target_audience.set(target) if target else FileRow.target_audience.remove()
        guarded_update(row, [action, FileRow.sequence.add(1)], FileRow.file_id.exists())
        row.refresh(consistent_read=True)
    return row


def text_url(row: FileRow) -> str:
    """A short-lived GET of the derived plain text (never the original upload)."""
    if not row.text_key:
        raise Conflict(f"no plain text has been derived from this file yet (status {row.status})", code="no_text")
    stem = row.filename.rsplit(".", 1)[0] if "." in row.filename else row.filename
    return client("s3").generate_presigned_url("get_object", ExpiresIn=settings().presign_ttl, Params={
        "Bucket": settings().media_bucket, "Key": row.text_key,
        "ResponseContentType": "text/plain; charset=utf-8",
        "ResponseContentDisposition": content_disposition(f"{stem}.txt").replace("attachment", "inline", 1)})


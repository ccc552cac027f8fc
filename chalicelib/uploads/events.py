"""From stored object to ``processing``: S3 ObjectCreated events (via SQS) and the stale sweeper."""
from __future__ import annotations

import hashlib
import json
from typing import Iterable
from urllib.parse import unquote_plus

from chalicelib.clock import iso
from chalicelib.ids import is_id
from chalicelib.observability import count, logger
from chalicelib.provider import client, now, settings
from chalicelib.status import FileStatus, transition
from chalicelib.uploads.models import OPEN_UPLOAD, FileRow
from chalicelib.refer import service as refer
from chalicelib.review import pipeline as analysis
from chalicelib.uploads.objects import PREFIX
from chalicelib.uploads.service import discard_stored, fail_upload

_CHUNK = 8 * 1024 * 1024


def stored_keys(bodies: Iterable[str]) -> list[str]:
    """Decoded object keys of ObjectCreated records under uploads/; test events and others skipped."""
    keys = []
    for body in bodies:
        try:
            message = json.loads(body)
        except ValueError:
            logger().warning("upload event is not JSON; dropped")
            continue
        for record in message.get("Records", []) if isinstance(message, dict) else []:
            if str(record.get("eventName", "")).startswith("ObjectCreated"):
                key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
                if key.startswith(PREFIX) and is_id(key[len(PREFIX):]):
                    keys.append(key)
    return list(dict.fromkeys(keys))


def _sha256(key: str) -> str:
    """Streamed: memory stays one chunk whatever the object's size."""
    digest = hashlib.sha256()
    body = client("s3").get_object(Bucket=settings().media_bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _mismatch(row: FileRow, size: int) -> str | None:
    if size != row.size:
        return f"stored size {size} bytes differs from the declared {int(row.size)}"
    if row.sha256 and _sha256(row.object_key) != row.sha256:
        return "the stored file's sha256 differs from the declared one"
    return None


def mark_stored(key: str) -> str:
    """pending -> processing when the object matches its declaration, else -> error (and the object
    is deleted). Idempotent: a duplicate event changes nothing; a retry after a crash finishes."""
    file_id = key[len(PREFIX):]
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        logger().warning("stored object has no file record", extra={"file_id": file_id})
        return "unknown"
    if row.status == FileStatus.ERROR:
        discard_stored(row)  # a failed file keeps nothing, even if a crash came between the two
        return "duplicate"
    if row.status != FileStatus.PENDING:
        return "duplicate"
    head = client("s3").head_object(Bucket=settings().media_bucket, Key=key)
    size = int(head["ContentLength"])
    problem = _mismatch(row, size)
    stored = [FileRow.stored_size.set(size), FileRow.stored_etag.set(head["ETag"]), FileRow.completed.set(True),
              FileRow.open_upload.remove(), FileRow.stored_at.set(iso(now()))]
    if problem:
        moved = transition(row, FileStatus.ERROR, actions=[*stored, FileRow.error.set(problem)])
    else:  # stored and verified: the refer key is issued with the move, as its second event
        moved = transition(row, FileStatus.PROCESSING, actions=[*stored, *refer.issue_actions(row)], events=2)
    if not moved:
        return "duplicate"
    if problem:
        discard_stored(row)
    else:
        refer.issued(row)
        analysis.key_issued(row)  # a readable kind goes to the built-in analyzer
    count("UploadsRejected" if problem else "UploadsStored")
    logger().info("upload stored", extra={"file_id": file_id, "ok": not problem})
    return FileStatus.ERROR.value if problem else FileStatus.PROCESSING.value


def handle(bodies: Iterable[str]) -> dict[str, str]:
    return {key: mark_stored(key) for key in stored_keys(bodies)}


def sweep() -> int:
    """Close uploads whose window has passed: abort the multipart upload, status -> error."""
    closed = 0
    for row in FileRow.open_uploads.query(OPEN_UPLOAD, FileRow.upload_deadline <= int(now())):
        if row.status != FileStatus.PENDING:
            continue
        if row.completed:  # completed but its S3 event never came: reconcile from the object
            mark_stored(row.object_key)
        elif fail_upload(row, "upload expired"):
            closed += 1
    if closed:
        count("UploadsExpired", closed)
    return closed

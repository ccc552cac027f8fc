"""From stored object to ``processing``: S3 ObjectCreated events (via SQS) and the stale sweeper."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Iterable
from urllib.parse import unquote_plus

from chalicelib.clients import client
from chalicelib.config import settings
from chalicelib.observability import count, logger
from chalicelib.uploads.models import ERROR, OPEN_UPLOAD, PENDING, PROCESSING, FileRow
from chalicelib.uploads.service import ID, _set, close_failed

PREFIX = "uploads/"
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
                if key.startswith(PREFIX) and ID.match(key[len(PREFIX):]):
                    keys.append(key)
    return list(dict.fromkeys(keys))


def _sha256(key: str) -> str:
    """Streamed: memory stays one chunk whatever the object's size."""
    digest = hashlib.sha256()
    body = client("s3").get_object(Bucket=settings().media_bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def mark_stored(key: str) -> str:
    """pending -> processing when the object matches its declaration, else -> error. Idempotent."""
    file_id = key[len(PREFIX):]
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        logger().warning("stored object has no file record", extra={"file_id": file_id})
        return "unknown"
    if row.status != PENDING:
        return "duplicate"
    head = client("s3").head_object(Bucket=settings().media_bucket, Key=key)
    size = int(head["ContentLength"])
    problem = None
    if size != row.size:
        problem = f"stored size {size} bytes differs from the declared {int(row.size)}"
    elif row.sha256 and _sha256(key) != row.sha256:
        problem = "the stored file's sha256 differs from the declared one"
    actions = [FileRow.stored_size.set(size), FileRow.stored_etag.set(head["ETag"]), FileRow.completed.set(True),
               FileRow.open_upload.remove()]
    if problem:
        actions += [FileRow.status.set(ERROR), FileRow.error.set(problem)]
    else:
        actions += [FileRow.status.set(PROCESSING)]
    if not _set(row, actions, FileRow.status == PENDING):
        return "duplicate"
    count("UploadsStored" if not problem else "UploadsRejected")
    logger().info("upload stored", extra={"file_id": file_id, "ok": not problem})
    return ERROR if problem else PROCESSING


def handle(bodies: Iterable[str]) -> dict[str, str]:
    return {key: mark_stored(key) for key in stored_keys(bodies)}


def sweep(now: float | None = None) -> int:
    """Close uploads whose window has passed: abort the multipart upload, status -> error."""
    deadline = time.time() if now is None else now
    closed = 0
    for row in FileRow.open_uploads.query(OPEN_UPLOAD, FileRow.upload_deadline <= int(deadline)):
        if row.status != PENDING:
            continue
        if row.completed:  # completed but its S3 event never came: reconcile from the object
            mark_stored(row.object_key)
        elif close_failed(row, "upload expired"):
            closed += 1
    if closed:
        count("UploadsExpired", closed)
    return closed

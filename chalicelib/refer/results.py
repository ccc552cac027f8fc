"""Analysis results posted back by the analyzers that downloaded a file with its key.

A result is stored once per (file, analyzer): the document in S3 under a content-addressed key,
a row in the results table. The same document again is a no-op; a different one is a 409. The
first accepted result moves the file ``processing`` -> ``ready``.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.auth import Principal
from chalicelib.clock import iso
from chalicelib.errors import ApiError, Forbidden, PayloadTooLarge, Unprocessable, validation_details
from chalicelib.ids import is_id, new_id
from chalicelib.observability import count
from chalicelib.provider import client, now, settings
from chalicelib.refer.models import ResultRow
from chalicelib.refer.service import ReferGone, ensure_analyzable, resolve
from chalicelib.status import FileStatus, transition
from chalicelib.uploads.models import FileRow

UPLOAD_MAX = 100 * 1024 * 1024
RESULT_GRACE = 3600  # seconds after the download window in which a downloader may still post


class ResultConflict(ApiError):
    status, code = 409, "result_exists"


def _downloader(key: str, principal: Principal) -> FileRow:
    """Only an analyzer that downloaded the file with this key may post for it, until an hour
    after the key's download window closed (an analysis may outlast the window, not a day)."""
    row, parts = resolve(key)
    if parts.issue < int(row.refer_issue):
        raise ReferGone("this key was replaced by a new one; results go with the key you downloaded with "
                        "only while it is current")
    if row.refer_frozen_at is not None and now() >= row.refer_frozen_at + settings().refer_download_window + RESULT_GRACE:
        raise ReferGone("this key's download window closed more than an hour ago", code="refer_expired")
    if not (int(row.refer_issue) == parts.issue and row.refer_frozen_window is not None
            and int(row.refer_frozen_window) == parts.window and principal.sub in (row.refer_downloaders or ())):
        raise Forbidden("only an analyzer that downloaded the file with this key may post its result",
                        code="not_a_downloader")
    ensure_analyzable(row)
    return row


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def store(key: str, principal: Principal, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` is a validated AnalysisResult, dumped to JSON types."""
    row = _downloader(key, principal)
    body = _canonical(document)
    digest = hashlib.sha256(body).hexdigest()
    object_key = f"results/{row.file_id}/{digest}.json"
    result = ResultRow(row.file_id, principal.sub, name=document["analyzer"]["name"],
                       version=document["analyzer"]["version"], rating=document.get("rating"),
                       findings=len(document.get("findings", [])), sha256=digest, document_key=object_key,
                       refer_issue=int(row.refer_issue), posted_at=iso(now()))
    created = True
    try:
        result.save(condition=ResultRow.analyzer.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = ResultRow.get(row.file_id, principal.sub, consistent_read=True)
        if existing.sha256 != digest:
            raise ResultConflict("this analyzer already posted a different result for this file") from None
        created = False
    # Written after the row and content-addressed: a retry after a crash writes the same object.
    client("s3").put_object(Bucket=settings().media_bucket, Key=object_key, Body=body,
                            ContentType="application/json; charset=utf-8")
    if row.status == FileStatus.PROCESSING and transition(row, FileStatus.READY):
        count("FilesReady")
    row.refresh(consistent_read=True)
    return {"file_id": row.file_id, "analyzer": principal.sub, "status": row.status,
            "findings": int(result.findings), "created": created}


def upload_slot(key: str, principal: Principal, size: int) -> dict[str, Any]:
    """A presigned PUT for a document over the inline limit; completed with ``store_uploaded``. It is
    signed for the declared ``size`` (Content-Length is a signed header), so S3 itself refuses a
    bigger body: nothing over the limit is ever stored."""
    row = _downloader(key, principal)
    upload_id = new_id()
    ttl = settings().presign_ttl
    url = client("s3").generate_presigned_url("put_object", ExpiresIn=ttl, HttpMethod="PUT", Params={
        "Bucket": settings().media_bucket, "Key": _upload_key(row.file_id, principal.sub, upload_id),
        "ContentType": "application/json", "ContentLength": size})
    return {"upload_id": upload_id, "url": url, "expires_at": iso(now() + ttl), "max_bytes": UPLOAD_MAX,
            "headers": {"Content-Type": "application/json", "Content-Length": str(size)}}


def _upload_key(file_id: str, analyzer: str, upload_id: str) -> str:
    """Under the analyzer's own prefix: another analyzer's upload id names nothing for it."""
    owner = hashlib.sha256(analyzer.encode()).hexdigest()[:32]
    return f"result-uploads/{file_id}/{owner}/{upload_id}.json"


def store_uploaded(key: str, principal: Principal, upload_id: str) -> dict[str, Any]:
    from pydantic import ValidationError

    from chalicelib.refer.schemas import AnalysisResult

    row = _downloader(key, principal)
    if not is_id(upload_id):
        raise Unprocessable("no such result upload", code="no_such_upload")
    s3 = client("s3")
    object_key = _upload_key(row.file_id, principal.sub, upload_id)
    try:
        head = s3.head_object(Bucket=settings().media_bucket, Key=object_key)
    except s3.exceptions.ClientError:
        raise Unprocessable("nothing was uploaded for this upload id", code="no_such_upload") from None
    try:
        if head["ContentLength"] > UPLOAD_MAX:
            raise PayloadTooLarge(f"the uploaded result is over {UPLOAD_MAX} bytes")
        raw = s3.get_object(Bucket=settings().media_bucket, Key=object_key)["Body"].read()
        try:
            document = AnalysisResult.model_validate_json(raw)
        except ValidationError as exc:
            raise Unprocessable("the uploaded result is not a valid AnalysisResult", validation_details(exc)) from None
        return store(key, principal, document.model_dump(mode="json"))
    finally:
        s3.delete_object(Bucket=settings().media_bucket, Key=object_key)

"""The upload API: create, sign parts, list parts, complete, abort, read.

Clients send bytes straight to S3 with presigned UploadPart URLs; this module only plans,
signs and records. Object keys are ``uploads/<file id>``; the user's file name is metadata.
"""
from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import quote

from pynamodb.exceptions import UpdateError

from chalicelib import cursor as cursor_codec
from chalicelib.auth import Principal
from chalicelib.clients import client
from chalicelib.config import settings
from chalicelib.errors import ApiError, Conflict, NotFound, Unprocessable
from chalicelib.uploads import policy
from chalicelib.uploads.models import ERROR, OPEN_UPLOAD, PENDING, FileRow

ID = re.compile(r"^[0-9a-f]{32}$")


class UploadClosed(ApiError):
    status, code = 409, "upload_closed"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_iso() -> str:
    return _iso(time.time())


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def render(row: FileRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.file_id, "status": row.status, "status_label": "--------" if row.status == PENDING else row.status,
        "filename": row.filename, "size": int(row.size), "content_type": row.content_type, "kind": row.kind,
        "target_audience": row.target_audience, "sha256": row.sha256, "error": row.error,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }
    if row.status == PENDING and not row.completed:
        out["upload"] = {"upload_id": row.upload_id, "part_size": int(row.part_size),
                         "part_count": int(row.part_count), "expires_at": _iso(row.upload_deadline),
                         "part_checksum": row.part_checksum}
    return out


def owned(file_id: str, principal: Principal) -> FileRow:
    """The caller's file; another user's file is indistinguishable from a missing one."""
    if not ID.match(file_id):
        raise NotFound(f"no file {file_id!r}")
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        raise NotFound(f"no file {file_id!r}") from None
    if row.owner != principal.sub and principal.role != "admin":
        raise NotFound(f"no file {file_id!r}")
    return row


# ---------------------------------------------------------------- create

def _create(owner: str, body: dict[str, Any]) -> dict[str, Any]:
    cfg = settings()
    policy.check(body["kind"], body["content_type"], body["size"])
    part_size, part_count = policy.plan(body["size"])
    file_id = uuid.uuid4().hex
    key = f"uploads/{file_id}"
    checksum = {"ChecksumAlgorithm": "CRC32"} if body.get("part_checksum") == "crc32" else {}
    upload = client("s3").create_multipart_upload(
        Bucket=cfg.media_bucket, Key=key, ContentType=body["content_type"],
        ContentDisposition=content_disposition(body["filename"]),
        Metadata={"file-id": file_id, "owner": owner}, **checksum)
    stamp, deadline = now_iso(), int(time.time()) + cfg.upload_window
    row = FileRow(file_id, owner=owner, filename=body["filename"], size=body["size"],
                  content_type=body["content_type"], kind=body["kind"], target_audience=body.get("target_audience"),
                  sha256=body.get("sha256"), status=PENDING, object_key=key, upload_id=upload["UploadId"],
                  part_size=part_size, part_count=part_count, part_checksum=body.get("part_checksum"),
                  upload_deadline=deadline, open_upload=OPEN_UPLOAD,
                  completed=False, created_at=stamp, updated_at=stamp)
    row.save(condition=FileRow.file_id.does_not_exist())
    return render(row)


@lru_cache(maxsize=1)
def _idempotent_create() -> tuple[Callable[..., dict[str, Any]], Any]:
    """Powertools Idempotency around _create, keyed by (caller, Idempotency-Key), checked on body."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function)

    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table,
                                           boto3_client=client("dynamodb"))
    config = IdempotencyConfig(event_key_jmespath="[owner, key]", payload_validation_jmespath="body",
                               expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def create(request: dict[str, Any]) -> dict[str, Any]:
        return _create(request["owner"], request["body"])

    return create, config


def create(principal: Principal, body: dict[str, Any], idempotency_key: str | None,
           lambda_context: Any = None) -> dict[str, Any]:
    if not idempotency_key:
        return _create(principal.sub, body)
    if len(idempotency_key) > 255:
        raise Unprocessable("the Idempotency-Key header is longer than 255 characters")
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError, IdempotencyValidationError)

    idempotent, config = _idempotent_create()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)  # bounds how long a crashed attempt blocks retries
    try:
        return idempotent(request={"owner": principal.sub, "key": idempotency_key, "body": body})
    except IdempotencyValidationError:
        raise Unprocessable("this Idempotency-Key was used with a different body",
                            code="idempotency_key_reused") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly") from None


# ---------------------------------------------------------------- parts

def _open(row: FileRow) -> None:
    if row.status != PENDING or row.completed:
        raise UploadClosed(f"the upload of this file is closed (status {row.status})")
    if row.upload_deadline <= time.time():
        raise UploadClosed("the upload window of this file has expired", code="upload_expired")


def _by_part(values: dict[str, str] | None, name: str) -> dict[int, str]:
    parsed = {int(k): v for k, v in (values or {}).items() if k.isdigit()}
    if values and len(parsed) != len(values):
        raise Unprocessable(f"{name} keys must be part numbers")
    return parsed


def sign_parts(row: FileRow, part_numbers: list[int], content_md5: dict[str, str] | None,
               checksums: dict[str, str] | None = None) -> dict[str, Any]:
    _open(row)
    beyond = sorted({n for n in part_numbers if n > row.part_count})
    if beyond:
        raise Unprocessable(f"this upload has {int(row.part_count)} parts", {"unknown_parts": beyond})
    digests = _by_part(content_md5, "content_md5")
    crcs = _by_part(checksums, "checksums")
    if row.part_checksum and not set(part_numbers) <= set(crcs):
        raise Unprocessable("this upload verifies a CRC32 per part: send checksums for every part",
                            {"missing": sorted(set(part_numbers) - set(crcs))}, code="checksum_required")
    if crcs and not row.part_checksum:
        raise Unprocessable("this upload was created without part_checksum", code="checksum_not_expected")
    ttl = settings().presign_ttl
    expires_at = _iso(time.time() + ttl)
    s3 = client("s3")
    parts = []
    for number in sorted(set(part_numbers)):
        params = {"Bucket": settings().media_bucket, "Key": row.object_key, "UploadId": row.upload_id,
                  "PartNumber": number}
        headers = {}
        if number in digests:
            params["ContentMD5"] = headers["Content-MD5"] = digests[number]
        if number in crcs:
            params["ChecksumCRC32"] = headers["x-amz-checksum-crc32"] = crcs[number]
        url = s3.generate_presigned_url("upload_part", Params=params, ExpiresIn=ttl, HttpMethod="PUT")
        parts.append({"part_number": number, "url": url, "expires_at": expires_at, "headers": headers})
    return {"parts": parts}


def stored_parts(row: FileRow) -> dict[str, Any]:
    """What S3 already holds, every page of ListParts."""
    if row.status != PENDING or row.completed:
        return {"parts": []}
    s3 = client("s3")
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        try:
            page = s3.list_parts(Bucket=settings().media_bucket, Key=row.object_key, UploadId=row.upload_id,
                                 PartNumberMarker=marker, MaxParts=1000)
        except s3.exceptions.NoSuchUpload:
            raise UploadClosed("the multipart upload no longer exists") from None
        parts += [{"part_number": p["PartNumber"], "etag": p["ETag"], "size": p["Size"],
                   **({"checksum_crc32": p["ChecksumCRC32"]} if p.get("ChecksumCRC32") else {})}
                  for p in page.get("Parts", [])]
        if not page.get("IsTruncated"):
            return {"parts": parts}
        marker = int(page["NextPartNumberMarker"])


# ---------------------------------------------------------------- complete / abort

def _set(row: FileRow, actions: list[Any], condition: Any) -> bool:
    """A conditional update; False when the condition no longer held (someone moved first)."""
    try:
        row.update(actions=[*actions, FileRow.updated_at.set(now_iso())], condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def complete(row: FileRow, parts: list[dict[str, Any]], sha256: str | None = None) -> dict[str, Any]:
    if row.completed or row.status != PENDING:
        if row.completed or row.status not in (PENDING, ERROR):
            return render(row)  # a repeated complete answers as the first did
        raise UploadClosed(f"the upload of this file is closed ({row.error})")
    _open(row)
    numbers = [p["part_number"] for p in parts]
    expected = set(range(1, int(row.part_count) + 1))
    details = {"missing": sorted(expected - set(numbers)), "unknown": sorted(set(numbers) - expected),
               "repeated": sorted({n for n in numbers if numbers.count(n) > 1})}
    if any(details.values()):
        raise Unprocessable(f"complete needs each of the {len(expected)} parts exactly once", details,
                            code="incomplete_parts")
    if sha256 and sha256 != (row.sha256 or sha256):
        raise Unprocessable("the sha256 differs from the one declared on create", code="sha256_mismatch")
    if sha256 and not row.sha256:  # stored before S3 can announce the object
        row.update(actions=[FileRow.sha256.set(sha256)], condition=FileRow.status == PENDING)
    s3 = client("s3")
    crcs = ({p["part_number"]: p.get("checksum_crc32") for p in stored_parts(row)["parts"]}
            if row.part_checksum else {})
    ordered = [{"PartNumber": p["part_number"], "ETag": p["etag"],
                **({"ChecksumCRC32": crcs[p["part_number"]]} if crcs.get(p["part_number"]) else {})}
               for p in sorted(parts, key=lambda p: p["part_number"])]
    try:
        s3.complete_multipart_upload(Bucket=settings().media_bucket, Key=row.object_key, UploadId=row.upload_id,
                                     MultipartUpload={"Parts": ordered})
    except s3.exceptions.NoSuchUpload:
        if not _object_exists(row.object_key):
            raise UploadClosed("the multipart upload no longer exists") from None
    except s3.exceptions.ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRequest"):
            raise Unprocessable(f"S3 refused the parts: {exc.response['Error'].get('Message', code)}",
                                {"s3_code": code}, code="invalid_parts") from None
        raise
    _set(row, [FileRow.completed.set(True)], FileRow.status == PENDING)
    row.refresh(consistent_read=True)
    return render(row)


def _object_exists(key: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_object(Bucket=settings().media_bucket, Key=key)
        return True
    except s3.exceptions.ClientError:
        return False


def _abort_upload(row: FileRow) -> None:
    s3 = client("s3")
    try:
        s3.abort_multipart_upload(Bucket=settings().media_bucket, Key=row.object_key, UploadId=row.upload_id)
    except s3.exceptions.NoSuchUpload:
        pass


def close_failed(row: FileRow, reason: str) -> bool:
    """pending (not completed) -> error, aborting the multipart upload. False if it had moved on."""
    _abort_upload(row)
    return _set(row, [FileRow.status.set(ERROR), FileRow.error.set(reason), FileRow.open_upload.remove()],
                (FileRow.status == PENDING) & (FileRow.completed == False))  # noqa: E712 - a DynamoDB condition


def abort(row: FileRow) -> dict[str, Any]:
    if row.status == ERROR:
        _abort_upload(row)
        return render(row)
    if row.completed or row.status != PENDING:
        raise UploadClosed(f"the upload is already complete (status {row.status})")
    if not close_failed(row, "upload aborted"):
        row.refresh(consistent_read=True)
        if row.status != ERROR:
            raise UploadClosed(f"the upload is already complete (status {row.status})")
    row.refresh(consistent_read=True)
    return render(row)


def download_url(row: FileRow) -> str:
    if row.status in (PENDING, ERROR):
        raise UploadClosed(f"the file is not stored (status {row.status})", code="not_stored")
    return client("s3").generate_presigned_url("get_object", ExpiresIn=settings().presign_ttl, Params={
        "Bucket": settings().media_bucket, "Key": row.object_key,
        "ResponseContentDisposition": content_disposition(row.filename)})


# ---------------------------------------------------------------- listing

def list_files(principal: Principal, limit: int, cursor: str | None, base_url: str) -> dict[str, Any]:
    """The caller's files, newest first."""
    start = None
    if cursor:
        value = cursor_codec.decode(cursor)
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
                and ID.match(value[1])):
            raise cursor_codec.invalid()
        start = {"owner": {"S": principal.sub}, "created_at": {"S": value[0]}, "file_id": {"S": value[1]}}
    rows = list(FileRow.by_owner.query(principal.sub, scan_index_forward=False, limit=limit + 1,
                                       page_size=limit + 1, last_evaluated_key=start))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"count": FileRow.by_owner.count(principal.sub),
            "next": (f"{base_url}/files?limit={limit}&cursor={cursor_codec.encode([rows[-1].created_at, rows[-1].file_id])}"
                     if more else None),
            "results": [render(r) for r in rows]}

"""The upload API: create, sign parts, list parts, complete, abort, read.

Clients send bytes straight to S3 with presigned UploadPart URLs; this module only plans,
signs and records. Object keys are ``uploads/<file id>``; the user's file name is metadata.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from chalicelib import cursor as cursor_codec
from chalicelib.auth import Principal
from chalicelib.clock import iso
from chalicelib.errors import ApiError, Conflict, NotFound, Unprocessable
from chalicelib.ids import is_id, new_id
from chalicelib.provider import client, current, now, settings
from chalicelib.status import FileStatus, guarded_update, transition
from chalicelib.refer.service import summary as refer_summary
from chalicelib.uploads import policy
from chalicelib.uploads.objects import content_disposition, object_key
from chalicelib.uploads.models import OPEN_UPLOAD, FileRow

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


class UploadClosed(ApiError):
    status, code = 409, "upload_closed"


def render(row: FileRow) -> dict[str, Any]:
    status = FileStatus(row.status)
    out: dict[str, Any] = {
        "id": row.file_id, "status": status.value, "status_label": status.label,
        "sequence": int(row.sequence), "status_at": row.status_at,
        "filename": row.filename, "size": int(row.size), "content_type": row.content_type, "kind": row.kind,
        "target_audience": row.target_audience, "sha256": row.sha256, "error": row.error,
        "error_code": row.error_code,
        "created_at": row.created_at, "updated_at": row.updated_at, "refer": refer_summary(row),
        # The rating summary (chalicelib.review): null until the file is rated (db_ready).
        "rating": row.rating, "ai_rating": row.ai_rating, "rated_at": row.rated_at,
        "analysis_run": int(row.analysis_run or 0), "text_available": bool(row.text_key),
    }
    plan = upload_plan(row)
    if plan is not None:
        out["upload"] = plan
    return out


def owned(file_id: str, principal: Principal) -> FileRow:
    """The caller's file; another user's file is indistinguishable from a missing one."""
    if not is_id(file_id):
        raise NotFound("no such file")
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        raise NotFound("no such file") from None
    if row.owner != principal.sub and principal.role != "admin":
        raise NotFound("no such file")
    return row


# ---------------------------------------------------------------- create

def _create(owner: str, body: dict[str, Any]) -> dict[str, Any]:
    row = new_row(owner, body)
    row.save(condition=FileRow.file_id.does_not_exist())
    return render(row)


def new_row(owner: str, body: dict[str, Any], **extra: Any) -> FileRow:
    """A file's row and its S3 multipart upload, not yet saved (bulk uploads save many in one
    batch). ``extra``: further attributes (a bulk item's task and account)."""
    cfg = settings()
    policy.check(body["kind"], body["content_type"], body["size"])
    part_size, part_count = policy.plan(body["size"])
    file_id = new_id()
    key = object_key(file_id)
    checksum = {"ChecksumAlgorithm": "CRC32"} if body.get("part_checksum") == "crc32" else {}
    upload = client("s3").create_multipart_upload(
        Bucket=cfg.media_bucket, Key=key, ContentType=body["content_type"],
        ContentDisposition=content_disposition(body["filename"]),
        Metadata={"file-id": file_id}, **checksum)  # no owner: analyzers download it
    started = now()
    stamp = iso(started)
    return FileRow(file_id, owner=owner, filename=body["filename"], size=body["size"],
                   content_type=body["content_type"], kind=body["kind"], target_audience=body.get("target_audience"),
                   sha256=body.get("sha256"), status=FileStatus.PENDING.value, sequence=1, status_at=stamp,
                   object_key=key, upload_id=upload["UploadId"], part_size=part_size, part_count=part_count,
                   part_checksum=body.get("part_checksum"), upload_deadline=int(started) + cfg.upload_window,
                   open_upload=OPEN_UPLOAD, completed=False, created_at=stamp, updated_at=stamp, **extra)


def upload_plan(row: FileRow) -> dict[str, Any] | None:
    """The multipart plan of a file whose upload is still open, else None."""
    if row.status != FileStatus.PENDING or row.completed:
        return None
    return {"upload_id": row.upload_id, "part_size": int(row.part_size), "part_count": int(row.part_count),
            "expires_at": iso(row.upload_deadline), "part_checksum": row.part_checksum}


def _idempotent_create() -> tuple[Callable[..., dict[str, Any]], Any]:
    """Powertools Idempotency around _create, keyed by (caller, Idempotency-Key), checked on body."""
    def build() -> tuple[Callable[..., dict[str, Any]], Any]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table,
                                               boto3_client=client("dynamodb"))
        config = IdempotencyConfig(event_key_jmespath="[owner, key]", payload_validation_jmespath="body",
                                   expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True)

        @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
        def create(request: dict[str, Any]) -> dict[str, Any]:
            return _create(request["owner"], request["body"])

        return create, config

    return current().memo("idempotent_create", build)


def create(principal: Principal, body: dict[str, Any], idempotency_key: str | None,
           lambda_context: Any = None) -> dict[str, Any]:
    if not idempotency_key:
        return _create(principal.sub, body)
    if len(idempotency_key) > 255:
        raise Unprocessable("the Idempotency-Key header is longer than 255 characters")
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

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

def _check_open(row: FileRow) -> None:
    if row.status != FileStatus.PENDING or row.completed:
        raise UploadClosed(f"the upload of this file is closed (status {row.status})")
    if row.upload_deadline <= now():
        raise UploadClosed("the upload window of this file has expired", code="upload_expired")


def sign_parts(row: FileRow, part_numbers: list[int], content_md5: dict[int, str] | None,
               checksums: dict[int, str] | None = None) -> dict[str, Any]:
    """Keys of ``content_md5`` and ``checksums`` are part numbers, parsed by the request schema."""
    _check_open(row)
    wanted = sorted(set(part_numbers))
    beyond = [n for n in wanted if n > row.part_count]
    if beyond:
        raise Unprocessable(f"this upload has {int(row.part_count)} parts", {"unknown_parts": beyond})
    digests, crcs = content_md5 or {}, checksums or {}
    if row.part_checksum and not set(wanted) <= set(crcs):
        raise Unprocessable("this upload verifies a CRC32 per part: send checksums for every part",
                            {"missing": sorted(set(wanted) - set(crcs))}, code="checksum_required")
    if crcs and not row.part_checksum:
        raise Unprocessable("this upload was created without part_checksum", code="checksum_not_expected")
    ttl = settings().presign_ttl
    expires_at = iso(now() + ttl)
    s3 = client("s3")
    parts = []
    for number in wanted:
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
    if row.status != FileStatus.PENDING or row.completed:
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

def _check_part_list(row: FileRow, parts: list[dict[str, Any]]) -> None:
    seen: set[int] = set()
    repeated: set[int] = set()
    for part in parts:
        number = part["part_number"]
        (repeated if number in seen else seen).add(number)
    expected = set(range(1, int(row.part_count) + 1))
    details = {"missing": sorted(expected - seen), "unknown": sorted(seen - expected), "repeated": sorted(repeated)}
    if any(details.values()):
        raise Unprocessable(f"complete needs each of the {len(expected)} parts exactly once", details,
                            code="incomplete_parts")


def _check_sizes(row: FileRow, stored: list[dict[str, Any]]) -> None:
    """A part URL cannot bind its size, so the parts S3 holds must add up to the declaration
    before they become an object: every part but the last is ``part_size``, the last the rest."""
    size, part_size, count = int(row.size), int(row.part_size), int(row.part_count)
    expected = {n: part_size for n in range(1, count)} | {count: size - (count - 1) * part_size}
    wrong = [{"part_number": p["part_number"], "size": p["size"], "expected": expected.get(p["part_number"])}
             for p in stored if p["size"] != expected.get(p["part_number"])]
    total = sum(p["size"] for p in stored)
    if wrong or total != size:
        raise Unprocessable(f"the parts hold {total} bytes; the file was declared at {size}: re-upload the "
                            "parts listed, or abort", {"declared": size, "uploaded": total, "parts": wrong[:100]},
                            code="size_mismatch")


def complete(row: FileRow, parts: list[dict[str, Any]], sha256: str | None = None) -> dict[str, Any]:
    if row.completed or row.status != FileStatus.PENDING:
        if row.completed or row.status != FileStatus.ERROR:
            return render(row)  # a repeated complete answers as the first did
        raise UploadClosed(f"the upload of this file is closed ({row.error})")
    _check_open(row)
    _check_part_list(row, parts)
    if sha256 and sha256 != (row.sha256 or sha256):
        raise Unprocessable("the sha256 differs from the one declared on create", code="sha256_mismatch")
    stored = stored_parts(row)["parts"]
    _check_sizes(row, stored)
    if sha256 and not row.sha256:  # stored before S3 can announce the object
        row.update(actions=[FileRow.sha256.set(sha256)], condition=FileRow.status == FileStatus.PENDING.value)
    crcs = {p["part_number"]: p.get("checksum_crc32") for p in stored} if row.part_checksum else {}
    ordered = [{"PartNumber": p["part_number"], "ETag": p["etag"],
                **({"ChecksumCRC32": crcs[p["part_number"]]} if crcs.get(p["part_number"]) else {})}
               for p in sorted(parts, key=lambda p: p["part_number"])]
    s3 = client("s3")
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
    guarded_update(row, [FileRow.completed.set(True)], FileRow.status == FileStatus.PENDING.value)
    row.refresh(consistent_read=True)
    return render(row)


def _object_exists(key: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_object(Bucket=settings().media_bucket, Key=key)
        return True
    except s3.exceptions.ClientError:
        return False


def discard_stored(row: FileRow) -> None:
    """Remove whatever a failed or aborted upload stored: its parts and its object. Idempotent,
    so a retried event or sweep finishes what a crash left."""
    s3 = client("s3")
    try:
        s3.abort_multipart_upload(Bucket=settings().media_bucket, Key=row.object_key, UploadId=row.upload_id)
    except s3.exceptions.NoSuchUpload:
        pass
    s3.delete_object(Bucket=settings().media_bucket, Key=row.object_key)


def fail_upload(row: FileRow, reason: str) -> bool:
    """pending (not completed) -> error, discarding the upload. False if it had moved on."""
    moved = transition(row, FileStatus.ERROR, actions=[FileRow.error.set(reason), FileRow.open_upload.remove()],
                       condition=FileRow.completed == False)  # noqa: E712 - a DynamoDB condition
    if moved:
        discard_stored(row)
    return moved


def abort(row: FileRow) -> dict[str, Any]:
    if row.status == FileStatus.ERROR:
        discard_stored(row)
        return render(row)
    if row.completed or row.status != FileStatus.PENDING:
        raise UploadClosed(f"the upload is already complete (status {row.status})")
    fail_upload(row, "upload aborted")
    row.refresh(consistent_read=True)
    if row.status != FileStatus.ERROR:
        raise UploadClosed(f"the upload is already complete (status {row.status})")
    return render(row)


def download_url(row: FileRow) -> str:
    if row.status in (FileStatus.PENDING, FileStatus.ERROR):
        raise UploadClosed(f"the file is not stored (status {row.status})", code="not_stored")
    return client("s3").generate_presigned_url("get_object", ExpiresIn=settings().presign_ttl, Params={
        "Bucket": settings().media_bucket, "Key": row.object_key,
        "ResponseContentDisposition": content_disposition(row.filename)})


# ---------------------------------------------------------------- listing

def _start_key(owner: str, cursor: str) -> dict[str, Any]:
    """DynamoDB's start key from a cursor this API made; anything else (an empty or malformed
    value that real DynamoDB would reject with a 500) is a 400."""
    value = cursor_codec.decode(cursor)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and _STAMP.match(value[0]) and is_id(value[1])):
        raise cursor_codec.invalid()
    return {"owner": {"S": owner}, "created_at": {"S": value[0]}, "file_id": {"S": value[1]}}


def list_files(principal: Principal, limit: int, cursor: str | None, base_url: str) -> dict[str, Any]:
    """The caller's files, newest first."""
    start = _start_key(principal.sub, cursor) if cursor else None
    rows = list(FileRow.by_owner.query(principal.sub, scan_index_forward=False, limit=limit + 1,
                                       page_size=limit + 1, last_evaluated_key=start))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor_codec.encode([rows[-1].created_at, rows[-1].file_id]) if more else None
    return {"count": FileRow.by_owner.count(principal.sub),
            "next": f"{base_url}/files?limit={limit}&cursor={next_cursor}" if next_cursor else None,
            "results": [render(r) for r in rows]}

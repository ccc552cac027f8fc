"""Bulk tasks: create (every item an ordinary file of the uploads service), read progress,
list, retry one account's failed items, cancel one account's pending items, report.

Creating 1,000 items stays well inside API Gateway's 29 s: the items are validated first (a bad
one refuses the task before any upload exists), the S3 multipart uploads are created by a
thread pool, and the rows (files, items, the first log lines) go in BatchWriteItem chunks of 25,
also in parallel. The task row is written last: until then nobody can see the task.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from chalicelib import cursor as cursor_codec
from chalicelib.auth import Principal
from chalicelib.bulk import logs
from chalicelib.bulk.logs import Line
from chalicelib.bulk.models import META, ItemRow, TaskRow, item_sk, task_pk
from chalicelib.bulk.progress import CANCELLED, FAILED, PENDING, ItemView, progress_message, state, summarize
from chalicelib.bulk.stream import CANCELLED_REASON
from chalicelib.clock import iso
from chalicelib.errors import ApiError, Conflict, NotFound, Unprocessable
from chalicelib.ids import is_id, new_id
from chalicelib.observability import logger
from chalicelib.provider import client, current, now, settings
from chalicelib.status import FileStatus
from chalicelib.uploads import policy
from chalicelib.uploads import service as uploads
from chalicelib.uploads.models import FileRow

_WORKERS = 32
MAX_ATTEMPTS = 50  # files per item: the item row keeps every earlier one (400 KB item limit)
_FILE_FIELDS = ["file_id", "status", "status_at", "stored_at", "completed", "error", "sha256", "filename"]
_made = threading.local()  # the answer of the create this thread just made
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# ---------------------------------------------------------------- create

def _check_items(items: list[dict[str, Any]]) -> None:
    """Every item's kind, type and size, before any upload is made: all errors in one 422."""
    problems = []
    for index, item in enumerate(items):
        try:
            policy.check(item["kind"], item["content_type"], item["size"])
        except ApiError as exc:
            problems.append({"loc": ["items", index], "msg": exc.message, "type": exc.code})
    if problems:
        raise Unprocessable(f"{len(problems)} item(s) cannot be uploaded", problems[:50])


def _parallel(fn: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    if len(values) <= 1:
        return [fn(v) for v in values]
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(values))) as pool:
        return list(pool.map(fn, values))


def _put_rows(rows: list[Any]) -> None:
    if not rows:
        return
    table = rows[0].Meta.table_name
    items = [row.serialize() for row in rows]
    _parallel(lambda start: logs.batch_put(table, items[start:start + 25]), list(range(0, len(items), 25)))


def _abort_all(rows: list[FileRow]) -> None:
    """Abort the multipart uploads of a create that failed (in parallel, like their creation)."""
    def abort(row: FileRow) -> None:
        try:
            uploads.discard_stored(row)
        except Exception:  # noqa: BLE001 - best effort; the bucket's lifecycle rule aborts the rest
            logger().warning("could not abort a bulk item's upload", extra={"file_id": row.file_id})

    _parallel(abort, rows)


def _new_files(owner: str, task_id: str, items: list[dict[str, Any]]) -> list[FileRow]:
    """A file row and S3 multipart upload per item (in parallel), saved in batches."""
    made: list[FileRow] = []

    def make(item: dict[str, Any]) -> FileRow:
        row = uploads.new_row(owner, item, bulk_task=task_id, bulk_account=item["account"])
        made.append(row)
        return row

    try:
        rows = _parallel(make, items)
        _put_rows(rows)
    except BaseException:
        _abort_all(made)
        raise
    return rows


def _create(owner: str, body: dict[str, Any]) -> dict[str, Any]:
    items = body["items"]
    _check_items(items)
    task_id = new_id()
    stamp = iso(now())
    files = _new_files(owner, task_id, items)
    item_rows = [ItemRow(task_pk(task_id), item_sk(i), index=i, account=item["account"], filename=item["filename"],
                         size=item["size"], content_type=item["content_type"], kind=item["kind"],
                         target_audience=item.get("target_audience"), sha256=item.get("sha256"),
                         part_checksum=item.get("part_checksum"), file_id=row.file_id, created_at=stamp)
                 for i, (item, row) in enumerate(zip(items, files))]
    _put_rows(item_rows)
    accounts = sorted({item["account"] for item in items})
    per_account = ", ".join(f"{a}: {sum(1 for i in items if i['account'] == a)}" for a in accounts)
    logs.write_first(task_id, [
        Line(None, "info", f"task {body['name']!r} created: {len(items)} file(s) for {len(accounts)} "
                           f"account(s) ({per_account})"),
        *[Line(item["account"], "info", f"{item['filename']}: created as file {row.file_id} "
                                        f"({item['size']:,} bytes); waiting for its upload", row.file_id)
          for item, row in zip(items, files)]])
    task = TaskRow(task_pk(task_id), META, task_id=task_id, owner=owner, name=body["name"], item_count=len(items),
                   accounts=accounts, created_at=stamp)
    task.save(condition=TaskRow.pk.does_not_exist())
    # This request's answer from memory (a replay under the Idempotency-Key reads it back instead).
    _made.answer = _answer(task, item_rows, {row.file_id: row for row in files})
    return {"task_id": task_id}


def _idempotent_create() -> Callable[..., dict[str, Any]]:
    def build() -> tuple[Callable[..., dict[str, Any]], Any]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table,
                                               boto3_client=client("dynamodb"))
        config = IdempotencyConfig(event_key_jmespath="[scope, owner, key]", payload_validation_jmespath="body",
                                   expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True)

        @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
        def create(request: dict[str, Any]) -> dict[str, Any]:
            return _create(request["owner"], request["body"])

        return create, config

    return current().memo("idempotent_bulk_create", build)


def create(principal: Principal, body: dict[str, Any], idempotency_key: str | None,
           lambda_context: Any = None) -> dict[str, Any]:
    """The task and its items' upload plans. With an Idempotency-Key a repeat (same body) answers
    the same task with each item's current file and plan (what a resuming client needs); only the
    task id is kept in the idempotency record (1,000 plans would not fit a DynamoDB item)."""
    _made.answer = None
    if not idempotency_key:
        return created(_create(principal.sub, body)["task_id"])
    if len(idempotency_key) > 255:
        raise Unprocessable("the Idempotency-Key header is longer than 255 characters")
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    idempotent, config = _idempotent_create()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        result = idempotent(request={"scope": "bulk", "owner": principal.sub, "key": idempotency_key, "body": body})
    except IdempotencyValidationError:
        raise Unprocessable("this Idempotency-Key was used with a different body",
                            code="idempotency_key_reused") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly") from None
    return created(result["task_id"])


def _item_plan(item: ItemRow, file: FileRow | None) -> dict[str, Any]:
    return {"index": int(item.index), "account": item.account, "file_id": item.file_id,
            "status": file.status if file else FileStatus.ERROR.value,
            "upload": uploads.upload_plan(file) if file else None}


def _answer(task: TaskRow, items: list[ItemRow], files: dict[str, FileRow]) -> dict[str, Any]:
    return {"id": task.task_id, "name": task.name, "created_at": task.created_at,
            "items": [_item_plan(item, files.get(item.file_id)) for item in items]}


def created(task_id: str) -> dict[str, Any]:
    """The answer to a create: this request's own, else read back (a replay: current files and plans)."""
    answer, _made.answer = getattr(_made, "answer", None), None
    if answer is not None and answer["id"] == task_id:
        return answer
    task = _get(task_id)
    items = _items(task_id)
    return _answer(task, items, _files([i.file_id for i in items], full=True))


# ---------------------------------------------------------------- read

def _get(task_id: str) -> TaskRow:
    try:
        return TaskRow.get(task_pk(task_id), META, consistent_read=True)
    except TaskRow.DoesNotExist:
        raise NotFound("no such bulk upload") from None


def owned(task_id: str, principal: Principal) -> TaskRow:
    """The caller's task; another uploader's is indistinguishable from a missing one."""
    if not is_id(task_id):
        raise NotFound("no such bulk upload")
    task = _get(task_id)
    if task.owner != principal.sub and principal.role != "admin":
        raise NotFound("no such bulk upload")
    return task


def _items(task_id: str, account: str | None = None) -> list[ItemRow]:
    condition = ItemRow.account == account if account is not None else None
    return list(ItemRow.query(task_pk(task_id), ItemRow.sk.startswith("ITEM#"), filter_condition=condition,
                              consistent_read=True))


def _files(file_ids: list[str], full: bool = False) -> dict[str, FileRow]:
    """The items' files, by id (BatchGetItem, 100 a call; only what progress needs unless full)."""
    if not file_ids:
        return {}
    fields = None if full else _FILE_FIELDS
    return {row.file_id: row for row in FileRow.batch_get(list(dict.fromkeys(file_ids)), consistent_read=True,
                                                           attributes_to_get=fields)}


def _view(item: ItemRow, file: FileRow | None) -> ItemView:
    status = file.status if file else None
    settled = None
    if item.cancelled_at:
        settled = item.cancelled_at
    elif file is not None and status == FileStatus.ERROR:
        settled = file.status_at
    elif file is not None and status != FileStatus.PENDING:
        settled = file.stored_at or file.status_at
    return ItemView(index=int(item.index), account=item.account, file_status=status,
                    uploaded=bool(file and file.completed), settled_at=settled, cancelled=bool(item.cancelled_at))


def progress(task: TaskRow) -> dict[str, Any]:
    """The task's status and counts, per account too, derived from its items' files now."""
    items = _items(task.task_id)
    files = _files([i.file_id for i in items])
    return summarize(_view(item, files.get(item.file_id)) for item in items)


def live_progress(task_id: str) -> dict[str, Any]:
    """The live channel's ``{"type": "progress"}`` message for a task, derived now (to push once
    per stream batch for each task ``stream.handle`` wrote to)."""
    return progress_message(task_id, progress(_get(task_id)))


def detail(task: TaskRow) -> dict[str, Any]:
    return {"id": task.task_id, "name": task.name, "created_at": task.created_at, **progress(task)}


def list_tasks(principal: Principal, limit: int, cursor: str | None, base_url: str) -> dict[str, Any]:
    """The caller's tasks, newest first (no progress: that is one read per task)."""
    start = None
    if cursor:
        value = cursor_codec.decode(cursor)
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
                and _STAMP.match(value[0]) and is_id(value[1])):
            raise cursor_codec.invalid()
        start = {"owner": {"S": principal.sub}, "created_at": {"S": value[0]},
                 "pk": {"S": task_pk(value[1])}, "sk": {"S": META}}
    rows = list(TaskRow.by_owner.query(principal.sub, scan_index_forward=False, limit=limit + 1,
                                       page_size=limit + 1, last_evaluated_key=start))
    more = len(rows) > limit
    rows = rows[:limit]
    token = cursor_codec.encode([rows[-1].created_at, rows[-1].task_id]) if more else None
    return {"next": f"{base_url}/bulk-uploads?limit={limit}&cursor={token}" if token else None,
            "results": [{"id": r.task_id, "name": r.name, "created_at": r.created_at, "total": int(r.item_count),
                         "accounts": list(r.accounts)} for r in rows]}


# ---------------------------------------------------------------- retry and cancel

def _account_items(task: TaskRow, account: str) -> list[ItemRow]:
    if account not in task.accounts:
        raise NotFound("this task has no such account")
    return _items(task.task_id, account)


def retry(task: TaskRow, account: str, fixes: list[dict[str, Any]]) -> dict[str, Any]:
    """A fresh file (and upload plan) for every failed item of ``account``, linked to the same
    item (the failed file stays in ``attempts``); ``fixes`` declare some items anew. Other
    accounts and this account's other items are not touched."""
    items = _account_items(task, account)
    files = _files([i.file_id for i in items])
    failed = [i for i in items if state(_view(i, files.get(i.file_id))) == FAILED]
    spent = [i for i in failed if len(i.attempts or []) + 1 >= MAX_ATTEMPTS]
    for item in spent:
        logs.append(task.task_id, Line(account, "warning", f"{item.filename}: not retried: {MAX_ATTEMPTS} attempts "
                                                           f"made (the item keeps every attempt's file id)"))
    failed = [i for i in failed if i not in spent]
    by_index = {fix["index"]: fix for fix in fixes}
    unknown = sorted(set(by_index) - {int(i.index) for i in failed})
    if unknown:
        raise Unprocessable("fixes name items that are not failed items of this account", {"indexes": unknown})
    declared = []
    for item in failed:
        fix = by_index.get(int(item.index), {})
        declared.append({"filename": item.filename, "size": fix.get("size") or int(item.size),
                         "content_type": fix.get("content_type") or item.content_type, "kind": item.kind,
                         "target_audience": item.target_audience, "account": account,
                         "sha256": fix["sha256"] if "sha256" in fix and fix["sha256"] else
                         (None if fix.get("size") else item.sha256),
                         "part_checksum": item.part_checksum})
    _check_items(declared)
    rows = _new_files(task.owner, task.task_id, declared)

    def link(job: tuple[ItemRow, dict[str, Any], FileRow]) -> dict[str, Any] | None:
        item, body, row = job
        old = item.file_id
        if not _relink(item, row, body):  # a concurrent retry relinked it first: this file is not needed
            uploads.fail_upload(row, "superseded by a concurrent retry")
            return None
        return {"plan": _item_plan(item, row), "line": Line(account, "info", f"{item.filename}: retry as file "
                                                                             f"{row.file_id} (was {old})", row.file_id)}

    linked = [done for done in _parallel(link, list(zip(failed, declared, rows))) if done is not None]
    logs.append_many(task.task_id, [done["line"] for done in linked] + [Line(
        account, "info" if linked else "warning",
        f"retry: {len(linked)} failed item(s) of account {account} get a new upload")])
    return {"account": account, "items": [done["plan"] for done in linked]}


def _relink(item: ItemRow, row: FileRow, body: dict[str, Any]) -> bool:
    from pynamodb.exceptions import UpdateError

    old = item.file_id
    try:
        item.update(actions=[ItemRow.file_id.set(row.file_id),
                             ItemRow.attempts.set((ItemRow.attempts | []).append([old])),
                             ItemRow.size.set(body["size"]), ItemRow.content_type.set(body["content_type"]),
                             ItemRow.sha256.set(body["sha256"]) if body["sha256"] else ItemRow.sha256.remove()],
                    condition=(ItemRow.file_id == old) & ItemRow.cancelled_at.does_not_exist())
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def cancel(task: TaskRow, account: str) -> dict[str, Any]:
    """Cancel the items of ``account`` whose upload is still open: the item is marked, its
    multipart upload aborted (the file moves to ``error``, "upload cancelled"). Items already
    uploaded, stored or failed, and every other account, are left as they are."""
    from pynamodb.exceptions import UpdateError

    items = _account_items(task, account)
    files = _files([i.file_id for i in items])
    stamp = iso(now())

    def cancel_one(item: ItemRow) -> int | None:
        file = files.get(item.file_id)
        view = _view(item, file)
        if state(view) != PENDING or view.uploaded or file is None:
            return None
        try:
            item.update(actions=[ItemRow.cancelled_at.set(stamp)],
                        condition=(ItemRow.file_id == item.file_id) & ItemRow.cancelled_at.does_not_exist())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        if not uploads.fail_upload(FileRow.get(item.file_id, consistent_read=True), CANCELLED_REASON):
            # its upload completed meanwhile: it is no longer pending, so the cancel does not apply
            item.update(actions=[ItemRow.cancelled_at.remove()])
            return None
        return int(item.index)

    cancelled = sorted(i for i in _parallel(cancel_one, items) if i is not None)
    logs.append(task.task_id, Line(account, "warning" if cancelled else "info",
                                   f"cancel: {len(cancelled)} pending item(s) of account {account} cancelled"))
    return {"account": account, "cancelled": cancelled}


# ---------------------------------------------------------------- report

_ERROR_CODES = (("stored size", "size_mismatch"), ("sha256", "sha256_mismatch"), ("expired", "upload_expired"),
                ("aborted", "upload_aborted"), (CANCELLED_REASON, "cancelled"), ("superseded", "superseded"))


def error_code(reason: str | None) -> str | None:
    """A stable code for a file's error reason (the message stays as the server wrote it)."""
    if not reason:
        return None
    return next((code for needle, code in _ERROR_CODES if needle in reason), "failed")


REPORT_COLUMNS = ("index", "account", "filename", "file_id", "result", "file_status", "error_code",
                  "error_message", "sha256", "attempts")


def report_rows(task: TaskRow) -> list[dict[str, Any]]:
    """One row per item, in item order (like S3 Batch Operations' completion reports)."""
    items = _items(task.task_id)
    files = _files([i.file_id for i in items])
    rows = []
    for item in items:
        file = files.get(item.file_id)
        result = state(_view(item, file))
        reason = CANCELLED_REASON if result == CANCELLED else (file.error if file else "the file record is missing")
        rows.append({"index": int(item.index), "account": item.account, "filename": item.filename,
                     "file_id": item.file_id, "result": result,
                     "file_status": file.status if file else None,
                     "error_code": error_code(reason) if result in (FAILED, CANCELLED) else None,
                     "error_message": reason if result in (FAILED, CANCELLED) else None,
                     "sha256": (file.sha256 if file else None) or item.sha256,
                     "attempts": len(item.attempts or []) + 1})
    return rows

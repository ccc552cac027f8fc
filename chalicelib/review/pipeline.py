"""The analysis queue (``kadr-<stage>-analysis``): the built-in analyzer, result ingestion and
re-analysis, one message each.

- ``analyze``: a readable file (screenplay, subtitles) got a refer key. The built-in analyzer is
  a client of the refer-key protocol like any external AI: it claims the key as the principal
  ``kadr-analyzer`` (taking one of the key's 10 places, freezing it if first), downloads the
  object the key names, reads it, stores the derived plain text, rates it against the catalog
  and posts an ``AnalysisResult`` through ``refer.results.store`` (the code behind
  ``POST /download/{key}``). Unreadable → the file goes to ``error`` with the reader's reason.
- ``ingest``: any analyzer's stored result (built-in or external, sent by the result routes) is
  written as findings, and the file's rating settles: ``ready`` → ``db_ready``.
- ``workbook``: a report workbook too large to build within an API request (``report.workbook``).
- ``rerate``: the owner asked for a re-analysis (``POST /files/{id}/analysis``): the built-in
  reads the stored upload again against today's catalog, every analyzer's result is written
  again (categories and ages from today's catalog), the ratings change in place.

Every step is idempotent: a redelivered message finds its work done (or redoes the same rows).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from chalicelib.auth import Principal
from chalicelib.clock import iso
from chalicelib.errors import ApiError, Conflict
from chalicelib.observability import count, logger
from chalicelib.provider import client, current, now, settings
from chalicelib.refer import results as refer_results
from chalicelib.refer import service as refer
from chalicelib.refer.models import ResultRow
from chalicelib.review import rules, store
from chalicelib.status import FileStatus, guarded_update, transition
from chalicelib.uploads.models import FileRow

READABLE_KINDS = frozenset({"screenplay", "subtitles"})  # what the built-in analyzer reads
BUILTIN = Principal(rules.BUILTIN_SUB, "analyzer")
VERSION = "1"
MAX_FINDINGS = 20_000  # AnalysisResult's own bound
RATED = (FileStatus.READY.value, FileStatus.DB_READY.value)


def text_key(file_id: str) -> str:
    """The derived plain text's object: made from the server's id only."""
    return f"derived/{file_id}.txt"


# ---------------------------------------------------------------- sending

def _send(messages: list[dict[str, Any]]) -> None:
    url = current().queue_url(settings().analysis_queue)
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(messages[start:start + 10])]
        failed = client("sqs").send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        if failed:
            raise RuntimeError(f"{len(failed)} analysis messages were not sent: {failed[0].get('Code')}")


def key_issued(row: FileRow) -> None:
    """After a refer key was issued (upload stored, or the owner's re-issue): a readable file goes
    to the built-in analyzer; other kinds wait for an external one."""
    if row.kind in READABLE_KINDS:
        _send([{"action": "analyze", "file_id": row.file_id, "issue": int(row.refer_issue)}])


def result_stored(file_id: str, analyzer: str) -> None:
    """After ``POST /download/{key}`` stored an analyzer's result: write its findings."""
    _send([{"action": "ingest", "file_id": file_id, "analyzer": analyzer}])


WORKBOOK_RETRY_AFTER = 600  # s: a request older than this (its build failed or was lost) may be sent again


def request_workbook(file_id: str, key: str) -> bool:
    """A large report workbook is built here, not in the API's request (see ``report.workbook``).

    Sent once per workbook state: the client polls the route every 5 s until the object exists,
    and every poll asking again would queue one more 20-second build. A marker in the file's
    findings partition (``W#<key>``, conditional put) lets only the first request through, and
    one again once the last is ``WORKBOOK_RETRY_AFTER`` old. True when this call sent it."""
    from chalicelib.db import dynamodb

    ddb = dynamodb()
    at = now()
    try:
        ddb.put_item(TableName=settings().findings_table,
                     Item={"file_id": {"S": file_id}, "sk": {"S": f"W#{key}"}, "requested_at": {"N": str(at)}},
                     ConditionExpression="attribute_not_exists(sk) OR requested_at < :stale",
                     ExpressionAttributeValues={":stale": {"N": str(at - WORKBOOK_RETRY_AFTER)}})
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    _send([{"action": "workbook", "file_id": file_id, "key": key}])
    return True


def request_rerate(row: FileRow) -> dict[str, Any]:
    """The owner's re-analysis: counted on the row (an event of the file), done by the queue."""
    if row.status not in RATED:
        raise Conflict(f"the file has no analysis to redo yet (status {row.status})", code="not_analyzed")
    before = int(row.analysis_run or 0)
    run = before + 1
    same = FileRow.analysis_run == before
    if before == 0:
        same |= FileRow.analysis_run.does_not_exist()
    if not guarded_update(row, [FileRow.analysis_run.set(run), FileRow.sequence.add(1)],
                          FileRow.status.is_in(*RATED) & same):
        raise Conflict("the file changed meanwhile; try again")
    _send([{"action": "rerate", "file_id": row.file_id, "run": run}])
    count("ReanalysesRequested")
    return {"file_id": row.file_id, "status": row.status, "analysis_run": run}


# ---------------------------------------------------------------- handling

def handle(bodies: Iterable[str]) -> dict[str, str]:
    outcome: dict[str, str] = {}
    for body in bodies:
        try:
            message = json.loads(body)
            action, file_id = message["action"], str(message["file_id"])
        except (ValueError, KeyError, TypeError):
            logger().warning("malformed analysis message dropped")
            continue
        if action == "analyze":
            outcome[f"{action}:{file_id}"] = analyze(file_id, int(message["issue"]))
        elif action == "ingest":
            outcome[f"{action}:{file_id}"] = ingest(file_id, str(message["analyzer"]))
        elif action == "rerate":
            outcome[f"{action}:{file_id}"] = rerate(file_id, int(message["run"]))
        elif action == "workbook":
            from chalicelib.review import report

            outcome[f"{action}:{file_id}"] = report.store_workbook(file_id, str(message["key"]))
        else:
            logger().warning("unknown analysis action dropped", extra={"action": str(action)[:40]})
    return outcome


def _row(file_id: str) -> FileRow | None:
    try:
        return FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        return None


def _result(file_id: str, analyzer: str) -> ResultRow | None:
    try:
        return ResultRow.get(file_id, analyzer, consistent_read=True)
    except ResultRow.DoesNotExist:
        return None


def catalog() -> rules.Catalog:
    from chalicelib.catalog import service as catalog_service
    from chalicelib.rating import Category

    return rules.Catalog([Category.from_entry(e) for e in catalog_service.entries()])


# ---------------------------------------------------------------- the built-in analyzer

def analyze(file_id: str, issue: int) -> str:
    row = _row(file_id)
    if row is None or row.kind not in READABLE_KINDS:
        return "skipped"
    if int(row.refer_issue or 0) != issue or row.status not in refer.STORED:
        return "stale"
    if _result(file_id, rules.BUILTIN_SUB) is not None:
        # A redelivery, or a re-issued key of a file the built-in has rated: its result is in,
        # write it (idempotent). Rating again is the owner's POST /files/{id}/analysis.
        return ingest(file_id, rules.BUILTIN_SUB)
    now_state = refer.state(row)
    if now_state.window is None:
        logger().warning("built-in analyzer: the key expired before it came", extra={"file_id": file_id})
        return "expired"
    key = refer.key_of(row, now_state.window)
    try:
        row = refer.claim(key, BUILTIN)  # GET /download/{key}'s own path: freeze, place, cap
    except ApiError as exc:
        logger().warning("built-in analyzer refused", extra={"file_id": file_id, "code": exc.code})
        return exc.code
    document = _read(row)
    if document is None:
        return FileStatus.ERROR.value
    result = _result_document(document, catalog())
    from chalicelib.refer.schemas import AnalysisResult

    posted = AnalysisResult.model_validate(result).model_dump(mode="json")  # what the route validates
    try:
        refer_results.store(key, BUILTIN, posted)  # POST /download/{key}'s own path
    except ApiError as exc:
        logger().warning("built-in analyzer's result refused", extra={"file_id": file_id, "code": exc.code})
        return exc.code
    count("BuiltinAnalyses")
    return ingest(file_id, rules.BUILTIN_SUB)


def _download(row: FileRow) -> bytes | None:
    """The object the key names, bounded by what the reader accepts (one byte more tells)."""
    from chalicelib.reading.reader import MAX_BYTES

    body = client("s3").get_object(Bucket=settings().media_bucket, Key=row.object_key)["Body"]
    return body.read(MAX_BYTES + 1)


def _read(row: FileRow) -> Any:
    """Read the upload into a Document and store its plain text; None (file → error) if it cannot."""
    from chalicelib.reading import UnreadableDocument, read

    try:
        document = read(_download(row) or b"", row.filename, row.content_type)
    except UnreadableDocument as exc:
        reason = f"the built-in analyzer cannot read this file: {exc.reason}"
        transition(row, FileStatus.ERROR, actions=[FileRow.error.set(reason), FileRow.error_code.set("unreadable")])
        count("FilesUnreadable")
        return None
    store_text(row, document.text)
    return document


def store_text(row: FileRow, text: str) -> None:
    """The derived plain text as its own object; the row points to it."""
    key = text_key(row.file_id)
    client("s3").put_object(Bucket=settings().media_bucket, Key=key, Body=text.encode("utf-8"),
                            ContentType="text/plain; charset=utf-8")
    if row.text_key != key:
        guarded_update(row, [FileRow.text_key.set(key)], FileRow.file_id.exists())


def _result_document(document: Any, cat: rules.Catalog) -> dict[str, Any]:
    """The built-in's rating as an AnalysisResult (the published schema's bounds applied)."""
    from chalicelib.rating import rate

    rated = rate(document, cat.categories)
    headings = {scene.index: scene.heading for scene in document.scenes}
    chosen = sorted(rated.findings, key=lambda f: (-rules.age_rank(f.age), -rules.severity_rank(f.severity),
                                                   f.scene, f.line))[:MAX_FINDINGS]
    chosen.sort(key=lambda f: (f.scene, f.line, f.category))
    findings = [{
        "category": f.category, "severity": f.severity, "scene": f.scene, "line": max(1, f.line),
        "excerpt": f.excerpt[:4000], "comment": "", "age": f.age, "qualifiers": [q[:100] for q in f.qualifiers][:20],
        "scene_label": (f.scene_label or str(f.scene))[:50], "scene_heading": headings.get(f.scene, "")[:500],
        "basis": (f.basis or "")[:1000], "evidence": max(1, min(int(f.evidence), 1_000_000)),
        "advice": (f.advice or "")[:2000]} for f in chosen]
    summary = (f"{len(rated.findings)} findings in {len({f.scene for f in rated.findings})} of "
               f"{len(document.scenes)} scenes; rating {rated.rating}")
    if len(rated.findings) > MAX_FINDINGS:
        summary += f"; the {MAX_FINDINGS} strongest are listed"
    return {"analyzer": {"name": rules.BUILTIN_NAME, "version": VERSION}, "rating": rated.rating,
            "summary": summary, "findings": findings}


# ---------------------------------------------------------------- ingestion

def ingest(file_id: str, analyzer: str, run: int | None = None, settle: bool = True) -> str:
    """Write one analyzer's stored result as findings, then settle the file's rating."""
    row = _row(file_id)
    result = _result(file_id, analyzer)
    if row is None or result is None:
        return "skipped"
    if row.status not in (*RATED, FileStatus.PROCESSING.value):
        return "skipped"  # error: nothing to rate
    run = int(row.analysis_run or 0) if run is None else run
    mark = store.mark_of(file_id, analyzer)
    if mark is None or mark.sha256 != result.sha256 or int(mark.run) < run:
        raw = client("s3").get_object(Bucket=settings().media_bucket, Key=result.document_key)["Body"].read()
        items = rules.finding_items(file_id, analyzer, json.loads(raw), catalog(), iso(now()))
        store.write_findings(file_id, analyzer, items, result.sha256, run)
    return store.settle(row, run) if settle else "written"


# ---------------------------------------------------------------- re-analysis

def rerate(file_id: str, run: int) -> str:
    row = _row(file_id)
    if row is None or row.status not in RATED:
        return "skipped"
    if row.rated_run is not None and int(row.rated_run) >= run:
        return "done"
    if int(row.analysis_run or 0) > run:  # a later run is asked for: that one does the work, once
        return "superseded"
    cat = catalog()
    builtin = _result(file_id, rules.BUILTIN_SUB)
    if builtin is not None and row.kind in READABLE_KINDS:
        from chalicelib.reading import UnreadableDocument, read

        try:
            document = read(_download(row) or b"", row.filename, row.content_type)
        except UnreadableDocument:
            document = None  # it was read once; keep the result it gave then
        if document is not None:
            store_text(row, document.text)
            _replace_builtin(row, builtin, _result_document(document, cat))
    for result in ResultRow.query(file_id, consistent_read=True):
        ingest(file_id, result.analyzer, run=run, settle=False)
    row.refresh(consistent_read=True)
    return store.settle(row, run)


def _replace_builtin(row: FileRow, result: ResultRow, document: dict[str, Any]) -> None:
    """The built-in's new result replaces its old one (the owner's re-analysis needs no key: the
    server reads its own stored object). Content-addressed like every result."""
    from chalicelib.refer.schemas import AnalysisResult

    posted = AnalysisResult.model_validate(document).model_dump(mode="json")
    body = json.dumps(posted, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()
    if digest == result.sha256:
        return
    key = f"results/{row.file_id}/{digest}.json"
    client("s3").put_object(Bucket=settings().media_bucket, Key=key, Body=body,
                            ContentType="application/json; charset=utf-8")
    result.update(actions=[ResultRow.sha256.set(digest), ResultRow.document_key.set(key),
                           ResultRow.rating.set(posted.get("rating")), ResultRow.findings.set(len(posted["findings"])),
                           ResultRow.posted_at.set(iso(now()))])

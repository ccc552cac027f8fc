"""Bulk uploads' routes: one task, many files for several accounts, per-account logs and a report.

Account names in paths are percent-decoded here (Chalice's local server passes them encoded; API
Gateway decoded; names cannot hold ``%``, so decoding twice changes nothing)."""
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib import http
from chalicelib.bulk import logs, report
from chalicelib.bulk import service as bulk
from chalicelib.catalog.rules import XLSX
from chalicelib.http import UPLOADER

blueprint = Blueprint(__name__)
api = http.Api(blueprint)


@api.route("/bulk-uploads", methods=["POST"], roles=UPLOADER, tags=["bulk"], status=201, errors=[409],
           summary="Create a bulk upload: a file and its upload plan per item (at most 1,000)",
           body="bulk.schemas:BulkCreate", response="bulk.schemas:BulkCreated")
def create_bulk(ctx: http.RequestContext) -> Response:
    """Idempotent on `Idempotency-Key`: a repeat answers the same task with each item's current file and plan."""
    task = bulk.create(ctx.principal, ctx.body.model_dump(), ctx.request.headers.get("idempotency-key"),
                       blueprint.lambda_context)
    return http.created(f"{ctx.base_url}/bulk-uploads/{task['id']}", task)


@api.route("/bulk-uploads", roles=UPLOADER, summary="The caller's bulk uploads, newest first", tags=["bulk"],
           query="bulk.schemas:BulkListQuery", response="bulk.schemas:BulkList")
def list_bulk(ctx: http.RequestContext) -> dict:
    return bulk.list_tasks(ctx.principal, ctx.query.limit, ctx.query.cursor, ctx.base_url)


@api.route("/bulk-uploads/{task_id}", roles=UPLOADER, tags=["bulk"], response="bulk.schemas:BulkTaskOut",
           summary="A bulk upload's status and counts, per account too (derived from its files now)")
def get_bulk(ctx: http.RequestContext, task_id: str) -> dict:
    return bulk.detail(bulk.owned(task_id, ctx.principal))


@api.route("/bulk-uploads/{task_id}/logs", roles=UPLOADER, tags=["bulk"], query="bulk.schemas:LogQuery",
           response="bulk.schemas:LogPage", summary="The task's log lines in order (`after` takes `next`)")
def bulk_logs(ctx: http.RequestContext, task_id: str) -> dict:
    task, q = bulk.owned(task_id, ctx.principal), ctx.query
    return logs.read(task.task_id, account=q.account, level=q.level, after=q.after, limit=q.limit)


@api.route("/bulk-uploads/{task_id}/report", roles=UPLOADER, tags=["bulk"], query="bulk.schemas:ReportQuery",
           produces=report.CSV, alternative=(200, XLSX),
           summary="Completion report, one row per item: CSV, or Excel with `format=xlsx`")
def bulk_report(ctx: http.RequestContext, task_id: str) -> Response:
    """For `format=xlsx` send `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (or */*)."""
    task = bulk.owned(task_id, ctx.principal)
    rows = bulk.report_rows(task)
    name = f"bulk-{task.task_id}.{ctx.query.format}"
    if ctx.query.format == "xlsx":
        body, kind = report.to_xlsx(rows), XLSX
    else:
        body, kind = report.to_csv(rows), report.CSV
    return Response(body=body, headers={"Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}"'})


@api.route("/bulk-uploads/{task_id}/accounts/{account}/retry", methods=["POST"], roles=UPLOADER, tags=["bulk"],
           body="bulk.schemas:RetryRequest", response="bulk.schemas:RetryOut", errors=[409],
           summary="A new upload for every failed item of one account (others untouched)")
def retry_account(ctx: http.RequestContext, task_id: str, account: str) -> dict:
    task = bulk.owned(task_id, ctx.principal)
    return bulk.retry(task, unquote(account), [fix.model_dump(exclude_none=True) for fix in ctx.body.items])


@api.route("/bulk-uploads/{task_id}/accounts/{account}/cancel", methods=["POST"], roles=UPLOADER, tags=["bulk"],
           response="bulk.schemas:CancelOut", summary="Cancel one account's items whose upload is still open")
def cancel_account(ctx: http.RequestContext, task_id: str, account: str) -> dict:
    return bulk.cancel(bulk.owned(task_id, ctx.principal), unquote(account))

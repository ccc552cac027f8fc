"""Rating routes: the target audience, re-analysis, the derived text, comments, recommendation
and report (JSON and Excel), and the analysis queue's handler."""
from chalice import Blueprint, Response

from chalicelib import http
from chalicelib.catalog.rules import XLSX
from chalicelib.http import UPLOADER
from chalicelib.provider import settings
from chalicelib.review import comments, pipeline, report
from chalicelib.review import service as review
from chalicelib.uploads import service as uploads

blueprint = Blueprint(__name__)
api = http.Api(blueprint)
OWNER_OR_ANALYZER = ("uploader", "analyzer")


@api.route("/files/{file_id}", methods=["PATCH"], roles=UPLOADER, tags=["rating"],
           summary="Set or clear the target audience (any status; the report follows without re-analysis)",
           body="review.schemas:FilePatch", response="uploads.schemas:FileOut")
def patch_file(ctx: http.RequestContext, file_id: str) -> dict:
    row = review.set_target(uploads.owned(file_id, ctx.principal), ctx.body.target_audience)
    return uploads.render(row)


@api.route("/files/{file_id}/analysis", methods=["POST"], roles=UPLOADER, tags=["rating"], status=202,
           summary="Re-rate the file against today's catalog, without a new upload",
           response="review.schemas:AnalysisAccepted", errors=[409])
def reanalyze(ctx: http.RequestContext, file_id: str) -> dict:
    return pipeline.request_rerate(uploads.owned(file_id, ctx.principal))


@api.route("/files/{file_id}/text", roles=UPLOADER, tags=["rating"], status=302, errors=[409],
           summary="The plain text derived from the file (302 to a short-lived GET; never the original)")
def derived_text(ctx: http.RequestContext, file_id: str) -> Response:
    return http.text_or_redirect(None, review.text_url(uploads.owned(file_id, ctx.principal)))


@api.route("/files/{file_id}/comments", roles=OWNER_OR_ANALYZER, tags=["rating"],
           summary="Comments: the analyzers' findings (ai), then posted comments in time order",
           query="review.schemas:CommentQuery", response="review.schemas:CommentList")
def list_comments(ctx: http.RequestContext, file_id: str) -> dict:
    row, _ = comments.reader(file_id, ctx.principal)
    return comments.listing(row, ctx.query.limit, ctx.query.cursor, ctx.base_url)


@api.route("/files/{file_id}/comments", methods=["POST"], roles=OWNER_OR_ANALYZER, tags=["rating"], status=201,
           summary="Comment (owner: user; an analyzer that downloaded the file: ai); a person's severity on a "
                   "finding overrides the AI's", body="review.schemas:CommentIn", response="review.schemas:CommentOut",
           errors=[409])
def post_comment(ctx: http.RequestContext, file_id: str) -> Response:
    row, source = comments.reader(file_id, ctx.principal)
    comment = comments.post(row, ctx.principal, source, ctx.body.model_dump())
    return http.created(f"{ctx.base_url}/files/{file_id}/comments", comment)


@api.route("/files/{file_id}/recommendation", roles=UPLOADER, tags=["rating"],
           summary="The AI's and people's comments merged into one record (computed on read)",
           response="review.schemas:Recommendation")
def get_recommendation(ctx: http.RequestContext, file_id: str) -> dict:
    return comments.recommendation(uploads.owned(file_id, ctx.principal))


@api.route("/files/{file_id}/recommendation", methods=["POST"], roles=UPLOADER, tags=["rating"],
           summary="Store the owner's conclusion with the recommendation", body="review.schemas:ConclusionIn",
           response="review.schemas:Recommendation")
def post_recommendation(ctx: http.RequestContext, file_id: str) -> dict:
    row = uploads.owned(file_id, ctx.principal)
    comments.conclude(row, ctx.principal, ctx.body.text)
    return comments.recommendation(row)


@api.route("/files/{file_id}/report", roles=UPLOADER, tags=["rating"], errors=[409],
           summary="Rating, exceedances with advice, findings by scene and category (?format=xlsx: a workbook; "
                   "send Accept: the xlsx type; a large one: 302 to S3, or 202 while it is built)", query="review.schemas:ReportQuery",
           response="review.schemas:Report", produces=XLSX,
           alternatives=((302, None), (202, "application/json")))
def get_report(ctx: http.RequestContext, file_id: str) -> Response:
    row = uploads.owned(file_id, ctx.principal)
    if ctx.query.format == "xlsx":
        data, url, pending = report.workbook(row)
        if url:  # too large for a Lambda response: a short-lived link to it in S3
            return http.text_or_redirect(None, url)
        if pending:  # too large to build within this request: the analysis queue builds it
            pipeline.request_workbook(file_id, pending)
            return http.json_response({"status": "preparing", "retry_after": 5}, 202, {"Retry-After": "5"})
        return Response(body=data, headers={
            "Content-Type": XLSX, "Content-Disposition": f'attachment; filename="report-{file_id}.xlsx"'})
    return http.json_response(report.build(row))


@blueprint.on_sqs_message(queue=settings().analysis_queue, batch_size=1)
def on_analysis(event) -> None:
    """The built-in analyzer, result ingestion and re-analysis (chalicelib.review.pipeline)."""
    pipeline.handle(record.body for record in event)

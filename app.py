"""Kadr: the map of entry points. Each handler is a few lines; the logic lives in chalicelib/."""
from chalice import Chalice, Rate, Response

from chalicelib import http
from chalicelib.bulk import live as bulk_live
from chalicelib.bulk import logs as bulk_logs
from chalicelib.catalog.rules import XLSX
from chalicelib.http import ANALYZER, EDITOR, UPLOADER
from chalicelib.observability import flush_after
from chalicelib.pages import listing, store, views
from chalicelib.provider import settings
from chalicelib.realtime import channel as live
from chalicelib.realtime import stream as live_stream
from chalicelib.refer import results as refer_results
from chalicelib.refer import service as refer
from chalicelib.review import pipeline as analysis
from chalicelib.routes import bulk as bulk_routes
from chalicelib.routes import catalog as catalog_routes
from chalicelib.routes import console as console_routes
from chalicelib.routes import review as review_routes
from chalicelib.uploads import events as upload_events
from chalicelib.uploads import service as uploads

app = Chalice(app_name="kadr", configure_logs=False)  # Powertools owns logging
app.register_middleware(flush_after, "all")
app.register_middleware(http.middleware, "http")
app.api.binary_types.append(XLSX)  # API Gateway passes workbooks as bytes, both ways
api = http.Api(app)
app.experimental_feature_flags.update(["WEBSOCKETS"])  # chalice package refuses on_ws_* without it

bulk_logs.add_sink(bulk_live.publish_line)  # each stored log line goes live to the task's subscribers
app.register_blueprint(catalog_routes.blueprint)
app.register_blueprint(bulk_routes.blueprint)
app.register_blueprint(review_routes.blueprint)
app.register_blueprint(console_routes.blueprint)


# ---------------------------------------------------------------- service

@api.route("/health", roles=None, summary="Liveness", tags=["service"])
def health(ctx: http.RequestContext) -> dict:
    return {"status": "ok", "stage": settings().stage}


@api.route("/openapi.json", roles=None, summary="This API as an OpenAPI 3 document", tags=["service"])
def openapi_document(ctx: http.RequestContext) -> dict:
    from chalicelib import openapi

    return openapi.document(app, ctx.base_url)


@api.route("/docs", roles=None, summary="Swagger UI", tags=["service"])
def docs(ctx: http.RequestContext) -> Response:
    from chalicelib.openapi import SWAGGER_HTML

    return Response(body=SWAGGER_HTML, headers={"Content-Type": "text/html; charset=utf-8"})


@api.route("/redoc", roles=None, summary="ReDoc", tags=["service"])
def redoc(ctx: http.RequestContext) -> Response:
    from chalicelib.openapi import REDOC_HTML

    return Response(body=REDOC_HTML, headers={"Content-Type": "text/html; charset=utf-8"})


@api.route("/docs-assets/{name}", roles=None, summary="The API viewers' scripts and styles (shipped, no CDN)",
           tags=["service"], produces="text/javascript")
def docs_asset(ctx: http.RequestContext, name: str) -> Response:
    from chalicelib.errors import NotFound
    from chalicelib.openapi import asset

    found = asset(name)
    if found is None:
        raise NotFound("no such asset")
    text, content_type = found
    return Response(body=text, headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


# ---------------------------------------------------------------- pages

@api.route("/pages", roles=None, summary="List pages", tags=["pages"],
           query="pages.schemas:PageListQuery", response="pages.schemas:PageList")
def list_pages(ctx: http.RequestContext) -> dict:
    q = ctx.query
    return listing.list_pages(q.limit, q.cursor, q.title, ctx.base_url)


@api.route("/pages", methods=["POST"], roles=EDITOR, summary="Create a page", tags=["pages"],
           body="pages.schemas:PageCreate", response="pages.schemas:PageDetail", status=201)
def create_page(ctx: http.RequestContext) -> Response:
    page = store.create_page(ctx.body.title, ctx.body.items, ctx.base_url)
    return http.created(f"{ctx.base_url}/pages/{page['id']}", page)


@api.route("/pages/{page_id}", roles=None, summary="Page with its items; counts a view of each item",
           tags=["pages"], response="pages.schemas:PageDetail")
def get_page(ctx: http.RequestContext, page_id: str) -> Response:
    return http.detail_response(store.detail(page_id, ctx.base_url))


@api.route("/pages/{page_id}", methods=["PATCH"], roles=EDITOR, summary="Rename a page", tags=["pages"],
           body="pages.schemas:PagePatch", response="pages.schemas:PageDetail")
def rename_page(ctx: http.RequestContext, page_id: str) -> dict:
    return store.rename_page(page_id, ctx.body.title, ctx.base_url)


@api.route("/pages/{page_id}", methods=["DELETE"], roles=EDITOR, summary="Delete a page and its items",
           tags=["pages"], status=204, errors=[409])
def delete_page(ctx: http.RequestContext, page_id: str) -> Response:
    store.delete_page(page_id)
    return http.no_content()


@api.route("/pages/{page_id}/items", methods=["POST"], roles=EDITOR, summary="Add an item at the end",
           tags=["pages"], body="pages.schemas:ItemCreate", response="pages.schemas:ItemOut", status=201,
           errors=[409])
def add_item(ctx: http.RequestContext, page_id: str) -> Response:
    item = store.add_item(page_id, ctx.body.root, ctx.base_url)
    return http.created(f"{ctx.base_url}/pages/{page_id}/items/{item['id']}", item)


@api.route("/pages/{page_id}/items/{item_id}", roles=None, summary="One item (counts no view)",
           tags=["pages"], response="pages.schemas:ItemOut")
def get_item(ctx: http.RequestContext, page_id: str, item_id: str) -> dict:
    return store.item(page_id, item_id, ctx.base_url)


@api.route("/pages/{page_id}/items/{item_id}/text/{field}", roles=None, status=302, tags=["pages"],
           summary="The full text of a long text field (`<field>_url` in items)",
           alternative=(200, "text/plain; charset=utf-8"))
def get_item_text(ctx: http.RequestContext, page_id: str, item_id: str, field: str) -> Response:
    """302 to a short-lived presigned GET of the text (text/plain; charset=utf-8) when it is
    kept in S3 or is an uploaded file; a short text kept inline is answered as text/plain."""
    return http.text_or_redirect(*store.text(page_id, item_id, field))


@api.route("/pages/{page_id}/items/{item_id}", methods=["PATCH"], roles=EDITOR, summary="Edit an item",
           tags=["pages"], body="pages.schemas:ItemPatch", response="pages.schemas:ItemOut", errors=[409])
def update_item(ctx: http.RequestContext, page_id: str, item_id: str) -> dict:
    return store.update_item(page_id, item_id, ctx.body.root, ctx.base_url)


@api.route("/pages/{page_id}/items/{item_id}", methods=["DELETE"], roles=EDITOR, summary="Remove an item",
           tags=["pages"], status=204, errors=[409])
def delete_item(ctx: http.RequestContext, page_id: str, item_id: str) -> Response:
    store.delete_item(page_id, item_id)
    return http.no_content()


@api.route("/pages/{page_id}/order", methods=["PUT"], roles=EDITOR, summary="Set the items' order",
           tags=["pages"], body="pages.schemas:PageOrder", response="pages.schemas:PageDetail", errors=[409])
def reorder_items(ctx: http.RequestContext, page_id: str) -> dict:
    return store.reorder(page_id, ctx.body.items, ctx.base_url)


# ---------------------------------------------------------------- files (uploads)

@api.route("/files", methods=["POST"], roles=UPLOADER, summary="Create a file and its multipart upload",
           tags=["files"], body="uploads.schemas:FileCreate", response="uploads.schemas:FileOut", status=201,
           errors=[409])
def create_file(ctx: http.RequestContext) -> Response:
    """Idempotent on the `Idempotency-Key` header: a retried create returns the same file."""
    file = uploads.create(ctx.principal, ctx.body.model_dump(), ctx.request.headers.get("idempotency-key"),
                          app.lambda_context)
    return http.created(f"{ctx.base_url}/files/{file['id']}", file)


@api.route("/files", roles=UPLOADER, summary="The caller's files, newest first", tags=["files"],
           query="uploads.schemas:FileListQuery", response="uploads.schemas:FileList")
def list_files(ctx: http.RequestContext) -> dict:
    return uploads.list_files(ctx.principal, ctx.query.limit, ctx.query.cursor, ctx.base_url)


@api.route("/files/{file_id}", roles=UPLOADER, summary="A file's status and metadata", tags=["files"],
           response="uploads.schemas:FileOut")
def get_file(ctx: http.RequestContext, file_id: str) -> dict:
    return uploads.render(uploads.owned(file_id, ctx.principal))


@api.route("/files/{file_id}/parts", methods=["POST"], roles=UPLOADER, summary="Presign part uploads",
           tags=["files"], body="uploads.schemas:PartsRequest", response="uploads.schemas:SignedParts",
           errors=[409])
def sign_parts(ctx: http.RequestContext, file_id: str) -> dict:
    row = uploads.owned(file_id, ctx.principal)
    return uploads.sign_parts(row, ctx.body.part_numbers, ctx.body.content_md5, ctx.body.checksums)


@api.route("/files/{file_id}/parts", roles=UPLOADER, summary="Parts S3 already holds (resume)",
           tags=["files"], response="uploads.schemas:StoredParts", errors=[409])
def stored_parts(ctx: http.RequestContext, file_id: str) -> dict:
    return uploads.stored_parts(uploads.owned(file_id, ctx.principal))


@api.route("/files/{file_id}/complete", methods=["POST"], roles=UPLOADER, summary="Complete the upload",
           tags=["files"], body="uploads.schemas:CompleteRequest", response="uploads.schemas:FileOut",
           errors=[409])
def complete_file(ctx: http.RequestContext, file_id: str) -> dict:
    body = ctx.body.model_dump()
    return uploads.complete(uploads.owned(file_id, ctx.principal), body["parts"], body["sha256"])


@api.route("/files/{file_id}/upload", methods=["DELETE"], roles=UPLOADER, summary="Abort the upload",
           tags=["files"], response="uploads.schemas:FileOut", errors=[409])
def abort_upload(ctx: http.RequestContext, file_id: str) -> dict:
    return uploads.abort(uploads.owned(file_id, ctx.principal))


@api.route("/files/{file_id}/download", roles=UPLOADER, summary="Redirect to a short-lived download URL",
           tags=["files"], status=302, errors=[409])
def download_file(ctx: http.RequestContext, file_id: str) -> Response:
    url = uploads.download_url(uploads.owned(file_id, ctx.principal))
    return Response(body="", status_code=302, headers={"Location": url})


# ---------------------------------------------------------------- refer keys (analyzers' way in)

@api.route("/files/{file_id}/refer", roles=UPLOADER, summary="The file's current refer key and download URL",
           tags=["refer"], response="refer.schemas:ReferOut")
def read_refer(ctx: http.RequestContext, file_id: str) -> dict:
    return refer.view(uploads.owned(file_id, ctx.principal), ctx.base_url)


@api.route("/files/{file_id}/refer", methods=["POST"], roles=UPLOADER, tags=["refer"],
           summary="Issue a new refer key (restarts rotation; the old key dies at once)",
           response="refer.schemas:ReferOut", errors=[409])
def reissue_refer(ctx: http.RequestContext, file_id: str) -> dict:
    """Also from `error` when the last key expired with no download ("no analyzer picked it up")."""
    row = refer.reissue(uploads.owned(file_id, ctx.principal))
    analysis.key_issued(row)
    return refer.view(row, ctx.base_url)


@api.route("/download/{refer_key}", roles=ANALYZER, summary="Download a file by refer key (302 to S3)",
           tags=["refer"], status=302, errors=[410, 429])
def download_by_key(ctx: http.RequestContext, refer_key: str) -> Response:
    """The first download freezes the key for a download window; at most 10 distinct analyzers."""
    row = refer.claim(refer_key, ctx.principal)
    return Response(body="", status_code=302, headers={
        "Location": refer.presigned_get(row), "X-File-Id": row.file_id,
        "X-File-Target-Audience": row.target_audience or "none", "X-Refer-Key": refer_key})


@api.route("/download/{refer_key}", methods=["POST"], roles=ANALYZER, tags=["refer"],
           summary="Post this analyzer's result for the file it downloaded with this key",
           body="refer.schemas:AnalysisResult", response="refer.schemas:ResultAccepted", status=201,
           errors=[409])
def post_result(ctx: http.RequestContext, refer_key: str) -> Response:
    """The first accepted result moves the file to `ready`. The same document again answers 200."""
    accepted = refer_results.store(refer_key, ctx.principal, ctx.body.model_dump(mode="json"))
    analysis.result_stored(accepted["file_id"], accepted["analyzer"])  # findings, then db_ready
    return http.json_response(accepted, 201 if accepted["created"] else 200)


@api.route("/download/{refer_key}/result-upload", methods=["POST"], roles=ANALYZER, tags=["refer"],
           summary="A presigned PUT for a result document over 5 MB, signed for its exact size",
           body="refer.schemas:ResultUploadIn", response="refer.schemas:ResultUpload", errors=[409])
def result_upload(ctx: http.RequestContext, refer_key: str) -> dict:
    return refer_results.upload_slot(refer_key, ctx.principal, ctx.body.size)


@api.route("/download/{refer_key}/result-upload/{upload_id}", methods=["POST"], roles=ANALYZER, tags=["refer"],
           summary="Store the result document uploaded through result-upload",
           response="refer.schemas:ResultAccepted", status=201, errors=[409, 413, 422])
def store_result_upload(ctx: http.RequestContext, refer_key: str, upload_id: str) -> Response:
    accepted = refer_results.store_uploaded(refer_key, ctx.principal, upload_id)
    analysis.result_stored(accepted["file_id"], accepted["analyzer"])
    return http.json_response(accepted, 201 if accepted["created"] else 200)


# ---------------------------------------------------------------- events

@app.on_sqs_message(queue=settings().views_queue, batch_size=100, maximum_batching_window_in_seconds=2)
def count_views(event) -> None:
    views.apply(record.body for record in event)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def report_views_backlog(event) -> None:
    views.report_backlog()


@app.on_sqs_message(queue=settings().uploads_queue, batch_size=10)
def on_upload_stored(event) -> None:
    """S3 ObjectCreated (via SQS): pending -> processing once the object matches its declaration."""
    upload_events.handle(record.body for record in event)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def sweep_stale_uploads(event) -> None:
    upload_events.sweep()


@app.on_sqs_message(queue=settings().refer_queue, batch_size=10)
def on_refer_timer(event) -> None:
    """A refer key's rotation or expiry is due (SQS message timers, one per event)."""
    refer.on_timer(record.body for record in event)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def repair_refer_timers(event) -> None:
    refer.repair_timers()


# ---------------------------------------------------------------- live status (WebSocket API)
# In app.py, not a blueprint: Chalice wraps on_ws_* handlers only on the app (a blueprint's are
# left unwrapped, DecoratorAPI.websocket_api is None there).

@app.on_ws_connect()
def ws_connect(event) -> dict:
    """`?token=` carries the bearer token (browsers set no headers on a WebSocket); none is a 401."""
    return live.connect(event.to_dict())


@app.on_ws_message()
def ws_message(event) -> dict:
    """subscribe / unsubscribe (file_id or task_id) and ping; answers go back by post_to_connection."""
    return live.message(event.to_dict())


@app.on_ws_disconnect()
def ws_disconnect(event) -> dict:
    return live.disconnect(event.to_dict())


@app.on_dynamodb_record(stream_arn=settings().files_stream_arn, batch_size=100, starting_position="LATEST")
def on_file_change(event) -> None:
    """Status moves and refer-key events of a file, pushed to its subscribers; a bulk file's moves
    become its task's log lines and progress."""
    live_stream.handle(event)
    bulk_live.on_files_change(record.to_dict() for record in event)

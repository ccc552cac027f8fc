"""The violations catalog's routes: reading for every signed-in role, editing and Excel for editors."""
from chalice import Blueprint, Response

from chalicelib import http
from chalicelib.catalog import service as catalog
from chalicelib.catalog.rules import XLSX
from chalicelib.http import ANY_ROLE, EDITOR

blueprint = Blueprint(__name__)
api = http.Api(blueprint)

@api.route("/violations", roles=ANY_ROLE, summary="The violations catalog (any signed-in role)",
           tags=["violations"], response="catalog.schemas:ViolationList")
def list_violations(ctx: http.RequestContext) -> dict:
    return catalog.listing()


@api.route("/violations", methods=["POST"], roles=EDITOR, summary="Add a category", tags=["violations"],
           body="catalog.schemas:ViolationCreate", response="catalog.schemas:ViolationOut", status=201,
           errors=[409])
def create_violation(ctx: http.RequestContext) -> Response:
    entry = catalog.create(ctx.body.model_dump())
    return http.created(f"{ctx.base_url}/violations/{entry['id']}", entry)


@api.route("/violations/import", methods=["POST"], roles=EDITOR, tags=["violations"],
           summary="Load an Excel workbook: upsert by id, all rows or none", content_types=[XLSX],
           response="catalog.schemas:ImportReport")
def import_violations(ctx: http.RequestContext) -> dict:
    """The body is the .xlsx file itself. Any bad row refuses the whole workbook (422, every error
    naming its sheet, row, column and cell); importing the same workbook again changes nothing."""
    return catalog.import_workbook(ctx.raw_body())


@api.route("/violations/export", roles=EDITOR, summary="The catalog as an Excel workbook", tags=["violations"],
           produces=XLSX)
def export_violations(ctx: http.RequestContext) -> Response:
    """Send `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (or */*)."""
    return Response(body=catalog.export_workbook(), headers={
        "Content-Type": XLSX, "Content-Disposition": 'attachment; filename="violations.xlsx"'})


@api.route("/violations/{violation_id}", roles=ANY_ROLE, summary="One category", tags=["violations"],
           response="catalog.schemas:ViolationOut")
def get_violation(ctx: http.RequestContext, violation_id: str) -> dict:
    return catalog.get(violation_id)


@api.route("/violations/{violation_id}", methods=["PUT"], roles=EDITOR, summary="Replace a category",
           tags=["violations"], body="catalog.schemas:ViolationIn", response="catalog.schemas:ViolationOut")
def replace_violation(ctx: http.RequestContext, violation_id: str) -> dict:
    return catalog.replace(violation_id, ctx.body.model_dump())


@api.route("/violations/{violation_id}", methods=["DELETE"], roles=EDITOR, summary="Delete a category",
           tags=["violations"], status=204)
def delete_violation(ctx: http.RequestContext, violation_id: str) -> Response:
    catalog.delete(violation_id)
    return http.no_content()

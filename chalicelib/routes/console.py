"""The web console: its page at the API root, its assets, its configuration. All open (role None):
the page holds no data; what it shows comes from the API with the token the user signs in with."""
from chalice import Blueprint, Response

from chalicelib import http
from chalicelib.console import service as console
from chalicelib.errors import NotFound

blueprint = Blueprint(__name__)
api = http.Api(blueprint)


@api.route("/", roles=None, summary="The web console (HTML; sign in with a bearer token)", tags=["console"],
           produces="text/html")
def console_page(ctx: http.RequestContext) -> Response:
    html, headers = console.page(ctx.base_url)
    return Response(body=html, headers=headers)


@api.route("/console/config.json", roles=None, summary="The console's configuration (tokens only on the local stack)",
           tags=["console"], response="console.schemas:ConsoleConfig")
def console_config(ctx: http.RequestContext) -> Response:
    return http.json_response(console.config(ctx.request.headers.get("host", "")),
                              headers={"Cache-Control": "no-store"})


@api.route("/console/{version}/{name}", roles=None, summary="The console's scripts and styles (shipped, no CDN)",
           tags=["console"], produces="text/javascript")
def console_asset(ctx: http.RequestContext, version: str, name: str) -> Response:
    found = console.asset(version, name)
    if found is None:
        raise NotFound("no such console asset")
    text, headers = found
    return Response(body=text, headers=headers)

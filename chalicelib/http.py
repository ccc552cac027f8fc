"""Route registration with auth, validated bodies and queries, and one error shape.

``Api.route`` wraps Chalice's ``app.route``: the view receives a ``Ctx`` (caller, parsed body
and query) and its path parameters. The route's ``Spec`` is kept on the view so the OpenAPI
document is generated from the same table Chalice routes by.
"""
from __future__ import annotations

import functools
import importlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib import auth
from chalicelib.errors import (
    ApiError,
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
    from_api_error,
    normalize,
    validation_details,
)
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.pages.cache import Detail
from chalicelib.payload import event_body_cost
from chalicelib.provider import settings

JSON = ["application/json"]


def resolve(ref: str | None) -> Any:
    """Load ``"module:Name"`` (relative to chalicelib) on first use: pydantic stays off cold starts."""
    if ref is None:
        return None
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(f"chalicelib.{module}"), name)


@dataclass(frozen=True)
class Spec:
    path: str
    methods: tuple[str, ...]
    roles: tuple[str, ...] | None
    summary: str
    body: str | None = None
    query: str | None = None
    response: str | None = None
    status: int = 200
    tags: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    # A route that takes another body than JSON names its types; the view reads ctx.raw_body().
    content_types: tuple[str, ...] = tuple(JSON)
    produces: str | None = None  # a non-JSON response's content type (documented as binary)
    # Another success the route may answer instead of ``status``: (status, its content type or None).
    alternative: tuple[int, str | None] | None = None
    # More of them (e.g. the report: 302 to a large workbook, 202 while it is being built).
    alternatives: tuple[tuple[int, str | None], ...] = ()


@dataclass
class RequestContext:
    """What a route handler gets: the request, its caller, and its validated body and query."""

    request: Request
    principal: auth.Principal | None
    body: Any = None
    query: Any = None

    def raw_body(self) -> bytes:
        """The body as sent (API Gateway's base64 undone for binary types), size-checked."""
        raw = self.request.raw_body or b""
        if len(raw) > settings().max_body_bytes:
            raise PayloadTooLarge(f"request body is {len(raw)} bytes; the limit is {settings().max_body_bytes}")
        return raw if isinstance(raw, bytes) else raw.encode("utf-8")

    @property
    def base_url(self) -> str:
        """Absolute API root as the client sees it (API Gateway's default domain has a stage path)."""
        configured = settings().public_base_url
        if configured:
            return configured.rstrip("/")
        headers = self.request.headers
        host = headers.get("host", "localhost")
        local = host.startswith(("127.", "localhost", "[::1]"))
        proto = headers.get("x-forwarded-proto", "http" if local else "https")
        stage = self.request.context.get("stage") if host.endswith(".amazonaws.com") else None
        return f"{proto}://{host}" + (f"/{stage}" if stage else "")


def _parse_body(request: Request, model_ref: str) -> Any:
    from pydantic import ValidationError

    raw = request.raw_body or b""
    limit = settings().max_body_bytes
    if event_body_cost(raw) > limit:
        raise _too_large(raw, limit)
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}", code="invalid_json") from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_json")
    try:
        # Strict: "1000" is not a number and 1 is not a string (lax coercion would let a client's
        # bug through silently). Request schemas use Literals, never Enums, which strict refuses.
        return resolve(model_ref).model_validate(data, strict=True)
    except ValidationError as exc:
        raise Unprocessable("the body is not valid", validation_details(exc)) from None


def _too_large(raw: bytes, limit: int) -> PayloadTooLarge:
    """Lambda takes the body inside its JSON event: the 413 says what it weighs there and where
    longer text goes instead (an uploaded file named by a ``<field>_file_id``)."""
    from chalicelib.pages.content_types import row_types
    from chalicelib.pages.models import file_field

    fields = sorted({file_field(name) for cls in row_types().values() for name in cls.long_text_fields()})
    return PayloadTooLarge(
        f"the request body weighs {event_body_cost(raw)} bytes in Lambda's event (JSON-escaped); the limit "
        f"is {limit}. Send UTF-8 JSON rather than \\u-escaped text (a Cyrillic letter is then 2 bytes, "
        f"not 7), or upload longer text as a text/plain file (POST /files) and name it in "
        f"{' or '.join(fields)} instead of the text.",
        {"limit": limit, "size": len(raw), "event_size": event_body_cost(raw), "file_fields": fields})


def _parse_query(request: Request, model_ref: str) -> Any:
    from pydantic import ValidationError

    try:
        return resolve(model_ref).model_validate(dict(request.query_params or {}))
    except ValidationError as exc:
        raise BadRequest("the query string is not valid", validation_details(exc), code="invalid_query") from None


def to_json(body: Any) -> str:
    """UTF-8 JSON: a third of Chalice's ``\\u``-escaped size for Cyrillic on the wire. Lambda's
    python3.11 runtime escapes non-ASCII in its own result anyway, so what bounds a response
    in Lambda is the shape (long texts by link, ``payload.response_cost``), not this."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _json_text_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=text, status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return _json_text_response(to_json(body), status, headers)


def detail_response(detail: Detail) -> Response:
    """A cached page detail, serialized on its first read only."""
    if detail.serialized is None:
        detail.serialized = to_json(detail.body)
    return _json_text_response(detail.serialized)


def text_or_redirect(text: str | None, url: str | None) -> Response:
    if url is not None:
        return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
    return Response(body=text or "", headers={"Content-Type": "text/plain; charset=utf-8"})


def created(location: str, body: Any) -> Response:
    return json_response(body, 201, {"Location": location})


def no_content() -> Response:
    return Response(body="", status_code=204)


def _to_response(result: Any, status: int) -> Response:
    return result if isinstance(result, Response) else json_response(result, status)


EDITOR = ("editor",)
UPLOADER = ("uploader",)
ANALYZER = ("analyzer",)
ANY_ROLE = ("reader", "uploader", "editor", "analyzer")  # admin passes every check


class Api:
    """The app's route table, with the metadata the OpenAPI generator reads."""

    def __init__(self, app: Chalice) -> None:
        self.app = app

    def route(self, path: str, *, methods: Iterable[str] = ("GET",), roles: Iterable[str] | None,
              summary: str, body: str | None = None, query: str | None = None,
              response: str | None = None, status: int = 200, tags: Iterable[str] = (),
              errors: Iterable[int] = (), content_types: Iterable[str] = JSON,
              produces: str | None = None,
              alternative: tuple[int, str | None] | None = None,
              alternatives: tuple[tuple[int, str | None], ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        spec = Spec(path=path, methods=tuple(methods), roles=tuple(roles) if roles is not None else None,
                    summary=summary, body=body, query=query, response=response, status=status,
                    tags=tuple(tags), errors=tuple(errors), content_types=tuple(content_types), produces=produces,
                    alternative=alternative, alternatives=tuple(alternatives))
        if body and spec.content_types != tuple(JSON):
            raise ValueError(f"{path}: a body schema is JSON; a route with other content types reads ctx.raw_body()")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def view(**params: str) -> Response:
                request = self.app.current_request
                principal = auth.authenticate(request.headers, request.context)
                auth.require(principal, spec.roles)
                ctx = RequestContext(request=request, principal=principal)
                if spec.query:
                    ctx.query = _parse_query(request, spec.query)
                if spec.body:
                    ctx.body = _parse_body(request, spec.body)
                return _to_response(fn(ctx, **params), spec.status)

            view.kadr_spec = spec  # type: ignore[attr-defined]
            self.app.route(path, methods=list(spec.methods), content_types=list(spec.content_types))(view)
            return view

        return register


def _refuse_if_misconfigured() -> None:
    """Whoever deploys with the placeholder secret would serve tokens anyone can forge as admin:
    then nothing is served at all, every request a 503 naming the setting."""
    problem = settings().secret_problem()
    if problem:
        logger().error("refusing to serve: the token secret is unusable", extra={"problem": problem})
        raise ServiceUnavailable(f"the API is not configured: {problem}", {"setting": "KADR_TOKEN_SECRET"},
                                 code="misconfigured")


_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Correlation id, error shape and an access log line for every HTTP request."""
    log = logger()
    given = event.headers.get("x-correlation-id") or ""
    # A client's id is logged and echoed: only a short plain token, else the server's own.
    correlation_id = (given if _CORRELATION_ID.fullmatch(given) else None) or event.context.get("requestId") or new_id()
    log.set_correlation_id(correlation_id)
    started = time.perf_counter()
    try:
        _refuse_if_misconfigured()
        response = get_response(event)
    except ApiError as exc:
        response = from_api_error(exc)
    response = normalize(response)
    response.headers["X-Correlation-Id"] = correlation_id
    log.info("request", extra={"method": event.method, "path": event.path, "status": response.status_code,
                               "ms": round((time.perf_counter() - started) * 1000, 2)})
    return response

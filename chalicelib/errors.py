"""One error shape for every failure: ``{"error": {"code", "message", "details"?}}``."""
from __future__ import annotations

from typing import Any

from chalice import Response
from chalice.app import ChaliceUnhandledError


class ApiError(ChaliceUnhandledError):
    """Raised anywhere below a route; the HTTP middleware turns it into the JSON error shape.

    It derives from ChaliceUnhandledError because Chalice lets only that pass through to
    middleware; any other exception is swallowed into Chalice's own 500 body.
    """

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None, *, code: str | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        if code:
            self.code = code
        if status:
            self.status = status


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unprocessable(ApiError):
    status, code = 422, "validation_error"


def validation_details(exc: Any) -> list[dict[str, Any]]:
    """A pydantic ValidationError as the ``details`` list of a 4xx (never the input itself)."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)]


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return Response(body={"error": error}, status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def from_api_error(err: ApiError) -> Response:
    return error_response(err.status, err.code, err.message, err.details, err.headers)


# Chalice answers some failures itself (415, 405, its BadRequestError, its 500) with
# {"Code", "Message"}: these map them onto our codes so clients see one shape.
_CHALICE_CODES = {
    "BadRequestError": "bad_request",
    "BadRequest": "bad_request",
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "NotFoundError": "not_found",
    "UnauthorizedError": "unauthorized",
    "ForbiddenError": "forbidden",
    "RequestTimeoutError": "request_timeout",
    "TooManyRequestsError": "too_many_requests",
    "InternalServerError": "internal_error",
}


def normalize(response: Response) -> Response:
    """Rewrite a Chalice-made error body into ours; leave every other response alone."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body and "Message" in body:
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        code = _CHALICE_CODES.get(body["Code"], "error")
        return error_response(response.status_code, code, str(body["Message"]), headers=headers)
    return response

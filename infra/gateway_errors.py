"""The local gateway's own errors in the app's JSON shape, as the gateway responses do on AWS.

Chalice's local server answers some requests without reaching the app: an unknown path (API
Gateway's "Missing Authentication Token" 403, which infra/gateway_responses.json turns into a
404 on AWS), a malformed Content-Length (a dropped connection before), and what http.server refuses itself (TRACE → 501, a URL over 64 KiB → 414, bad
request lines) as HTML. ``JsonErrors`` is mixed into the request handler so each of those is
``{"error": {"code", "message"}}`` like every other error.
"""
from __future__ import annotations

import json
from typing import Any

_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 408: "request_timeout",
          414: "uri_too_long", 431: "headers_too_large", 500: "internal_error", 501: "not_implemented",
          504: "gateway_timeout"}


def error_body(status: int, message: str) -> bytes:
    return json.dumps({"error": {"code": _CODES.get(status, "error"), "message": message}}).encode()


class JsonErrors:
    """Mixin for chalice.local.ChaliceRequestHandler (a BaseHTTPRequestHandler)."""

    def _checked_handle(self) -> None:
        # Found by the fuzzer: Chalice calls int() on Content-Length outside its error handling,
        # so a malformed one dropped the connection with no answer. API Gateway answers a 400.
        length = self.headers.get("content-length")  # type: ignore[attr-defined]
        if length is not None and not (length.strip().isascii() and length.strip().isdigit()):
            self.send_error(400, "Content-Length is not a number")
            return
        super()._generic_handle()  # type: ignore[misc]

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _checked_handle

    def _send_error_response(self, error: Any) -> None:
        status = error.CODE
        headers = dict(error.headers or {})
        message = "the gateway refused the request"
        if headers.get("x-amzn-ErrorType") == "UnauthorizedException" and status == 403:
            # No route matched the path: API Gateway's MISSING_AUTHENTICATION_TOKEN, a 404 here and on AWS.
            status, message = 404, "no such route"
            headers.pop("x-amzn-ErrorType")
        elif status == 504:
            message = "the function timed out"
        headers["Content-Type"] = "application/json"
        self._send_http_response(status, headers, error_body(status, message))  # type: ignore[attr-defined]

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (unknown method, URL or headers too long, bad request line)."""
        short, long = self.responses.get(code, ("Error", "Error"))  # type: ignore[attr-defined]
        body = error_body(code, message or long)
        self.log_error("code %d, message %s", code, message)  # type: ignore[attr-defined]
        self.send_response(code, message or short)  # type: ignore[attr-defined]
        self.send_header("Connection", "close")  # type: ignore[attr-defined]
        self.send_header("Content-Type", "application/json")  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))  # type: ignore[attr-defined]
        self.end_headers()  # type: ignore[attr-defined]
        if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)  # type: ignore[attr-defined]

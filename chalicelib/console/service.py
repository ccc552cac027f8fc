"""What the console routes serve: its page, its assets by an allow-list, its configuration.

The assets sit under a versioned path (``console/<version>/<name>``, the version a digest of all of
them), so a browser may cache them for good, and the ES modules' relative imports stay inside one
version. The page itself is never cached and carries a Content-Security-Policy that allows nothing
from outside: scripts, styles, fonts and images from the API's own origin only; connections to the
API, the S3 endpoint that presigned part URLs point at, and the WebSocket channel.
"""
from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalicelib.provider import client, settings

STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
# The only names served (never a path built from input). Adding a file: one line here.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "upload.js": "text/javascript; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "files.js": "text/javascript; charset=utf-8",
    "report.js": "text/javascript; charset=utf-8",
    "pages.js": "text/javascript; charset=utf-8",
    "bulk.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    return {name: (STATIC / name).read_text("utf-8") for name in ASSETS}


@lru_cache(maxsize=1)
def version() -> str:
    """A digest of every asset: it changes whenever one does, so cached copies never go stale."""
    digest = hashlib.sha256()
    for name, text in sorted(_texts().items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:16]


def asset(requested_version: str, name: str) -> tuple[str, dict[str, str]] | None:
    """An asset's text and headers, or None for a name outside the allow-list. An old version's
    request (a page loaded before a deploy) gets today's file, uncached."""
    if name not in ASSETS:
        return None
    cache = IMMUTABLE if requested_version == version() else "no-cache"
    return _texts()[name], {"Content-Type": ASSETS[name], "Cache-Control": cache,
                            "X-Content-Type-Options": "nosniff"}


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def storage_origin() -> str | None:
    """The origin presigned part URLs point at (moto locally, the bucket's S3 host on AWS):
    presigning is local computation, so this asks S3 nothing."""
    url = client("s3").generate_presigned_url("get_object", ExpiresIn=60,
                                              Params={"Bucket": settings().media_bucket, "Key": "console"})
    return _origin(url)


def ws_from_management(url: str | None) -> str | None:
    """The WebSocket API's management endpoint has the browser endpoint's host and stage:
    ``https://{id}.execute-api.{region}.amazonaws.com/api`` → ``wss://…/api``, and locally
    ``http://127.0.0.1:8001`` → ``ws://127.0.0.1:8001``."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    return "ws" + url[len("http"):].rstrip("/")


def ws_url() -> str | None:
    """The live channel for browsers: ``KADR_WS_URL`` if set, else derived from
    ``KADR_WS_MANAGEMENT_URL``, which the live-status wiring sets on AWS and in the local stack
    (read with getattr: that setting arrives with the live-status branch)."""
    current = settings()
    return current.ws_url or ws_from_management(getattr(current, "ws_management_url", None))


def content_security_policy() -> str:
    connect = ["'self'"] + [o for o in (storage_origin(), _origin(ws_url())) if o]
    return "; ".join([
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "font-src 'self'", f"connect-src {' '.join(connect)}", "base-uri 'self'", "form-action 'self'",
        "frame-ancestors 'none'", "object-src 'none'",
    ])


def page(base_url: str) -> tuple[str, dict[str, str]]:
    """The console's HTML: assets named relative to the API root (``<base>``), so it works under
    API Gateway's stage path as on a custom domain."""
    base_path = urlsplit(base_url).path.rstrip("/") + "/"
    html = (STATIC / "index.html").read_text("utf-8")
    html = html.replace("{{base}}", base_path).replace("{{version}}", version())
    return html, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                  "Content-Security-Policy": content_security_policy(), "X-Content-Type-Options": "nosniff",
                  "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


LOOPBACK = re.compile(r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$")


def _on_local_stack(host: str) -> bool:
    """Only the local stack (``KADR_LOCAL=1``, never inside Lambda) hands out its tokens, and only
    to a page it serves on a loopback address (a stack bound to 0.0.0.0 gives none to the LAN)."""
    return settings().local and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and bool(LOOPBACK.match(host))


def config(host: str) -> dict[str, Any]:
    """What the page needs to know that it cannot see: the WebSocket URL, and on the local stack
    the tokens `make dev` prints (the same subjects, so files uploaded by either are the same
    owner's). ``host`` is the request's Host header."""
    out: dict[str, Any] = {"stage": settings().stage, "ws": ws_url(), "local": _on_local_stack(host),
                           "tokens": None}
    if out["local"]:
        from chalicelib.auth import ROLES, issue_token

        out["tokens"] = {role: issue_token(f"local-{role}", role) for role in ROLES}
    return out

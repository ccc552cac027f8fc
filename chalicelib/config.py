"""Settings from the environment: .chalice/config.json in AWS, the local stack on a laptop.

Read through the provider (``chalicelib.provider.settings()``), which tests can replace.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

# Values that only say "set me": a deployment that still carries one must not serve.
PLACEHOLDER_SECRETS = frozenset({"set-me-in-the-deploy-environment", "changeme", "change-me", "secret"})
MIN_SECRET_BYTES = 32


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    aws_endpoint: str | None
    pages_table: str
    media_bucket: str
    views_queue: str
    views_queue_url: str | None
    token_secret: str
    public_base_url: str | None
    api_base_url: str | None
    page_cache_ttl: int
    inline_text_max: int
    inline_text_response_max: int
    max_body_bytes: int
    max_items_per_page: int
    files_table: str
    idempotency_table: str
    uploads_queue: str
    max_file_size: int
    part_size: int
    presign_ttl: int
    upload_window: int
    refer_queue: str
    refer_download_window: int
    download_url_ttl: int
    results_table: str
    violations_table: str
    bulk_table: str
    analysis_queue: str
    findings_table: str
    realtime_table: str
    files_stream_arn: str
    ws_management_url: str | None
    ws_max_subscriptions: int
    ws_connection_ttl: int
    ws_idle_timeout: int
    local: bool
    ws_url: str | None

    def secret_problem(self) -> str | None:
        """Why the token secret cannot be used, or None. A forgeable secret must stop the API."""
        secret = self.token_secret
        if not secret:
            return "KADR_TOKEN_SECRET is not set"
        if self.local:
            return None
        if secret in PLACEHOLDER_SECRETS:
            return "KADR_TOKEN_SECRET is still the placeholder from .chalice/config.json"
        if len(secret.encode()) < MIN_SECRET_BYTES:
            return f"KADR_TOKEN_SECRET is shorter than {MIN_SECRET_BYTES} bytes"
        return None


def from_env() -> Settings:
    stage = os.environ.get("KADR_STAGE", "dev")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_endpoint=os.environ.get("KADR_AWS_ENDPOINT") or None,
        pages_table=os.environ.get("KADR_PAGES_TABLE", f"kadr-{stage}-pages"),
        media_bucket=os.environ.get("KADR_MEDIA_BUCKET", f"kadr-{stage}-media"),
        views_queue=os.environ.get("KADR_VIEWS_QUEUE", f"kadr-{stage}-views"),
        # Optional (the data stack's ViewsQueueUrl output): saves a GetQueueUrl per cold start.
        views_queue_url=os.environ.get("KADR_VIEWS_QUEUE_URL") or None,
        token_secret=os.environ.get("KADR_TOKEN_SECRET", ""),
        public_base_url=os.environ.get("KADR_PUBLIC_BASE_URL") or None,
        # The API's URL for code that answers no request (the stream handler's refer-key URLs),
        # used when KADR_PUBLIC_BASE_URL is not set. Apart from it because that one also pins
        # every response's links: the local stack sets this one, and responses keep following
        # the Host header.
        api_base_url=os.environ.get("KADR_API_BASE_URL") or None,
        page_cache_ttl=_int("KADR_PAGE_CACHE_TTL", 5),
        # 8 KiB per text field keeps a full page (<= 50 items) inside one 1 MB Query response,
        # so a detail read stays a single DynamoDB call; longer text lives in S3.
        inline_text_max=_int("KADR_INLINE_TEXT_MAX", 8 * 1024),
        # A text field is inline in responses only while it weighs at most this in Lambda's
        # response payload (chalicelib.payload.response_cost: worst-case escaping, up to 14
        # bytes a character); longer texts are served by link (`<field>_url`). 50 items at
        # 64 KiB, with 200-character titles and 2,048-character URLs, stay under 4 MB of
        # Lambda's 6,291,456 (tests/test_response_limits.py builds that page). Every text kept in
        # DynamoDB (<= 8 KiB UTF-8, <= 7 bytes a byte) is under it.
        inline_text_response_max=_int("KADR_INLINE_TEXT_RESPONSE_MAX", 64 * 1024),
        # Measured as the body weighs in Lambda's event (chalicelib.payload.event_body_cost).
        # The binding limit is Lambda's 6,291,456-byte synchronous payload for the whole event,
        # not API Gateway's 10 MB; 64 KiB of it are left for the rest of the event: headers
        # twice (headers and multiValueHeaders, each up to API Gateway's 10,240 bytes), the
        # requestContext with authorizer claims, path and query. So any body under this limit
        # fits in an event, and the local stack refuses what AWS would.
        max_body_bytes=_int("KADR_MAX_BODY_BYTES", 6_291_456 - 64 * 1024),
        max_items_per_page=_int("KADR_MAX_ITEMS_PER_PAGE", 50),
        files_table=os.environ.get("KADR_FILES_TABLE", f"kadr-{stage}-files"),
        idempotency_table=os.environ.get("KADR_IDEMPOTENCY_TABLE", f"kadr-{stage}-idempotency"),
        uploads_queue=os.environ.get("KADR_UPLOADS_QUEUE", f"kadr-{stage}-uploads"),
        max_file_size=_int("KADR_MAX_FILE_SIZE", 50 * 1024**3),
        # Parts of at least 16 MiB: fewer requests per GiB; S3's 10,000-part cap raises it for
        # files over ~156 GiB.
        part_size=max(5 * 1024**2, _int("KADR_PART_SIZE", 16 * 1024**2)),
        # Presigned URLs live minutes, never more than 15.
        presign_ttl=min(900, _int("KADR_PRESIGN_TTL", 600)),
        upload_window=_int("KADR_UPLOAD_WINDOW", 24 * 3600),
        refer_queue=os.environ.get("KADR_REFER_QUEUE", f"kadr-{stage}-refer"),
        # How long a key stays valid after its first download (it stops rotating then).
        refer_download_window=_int("KADR_REFER_DOWNLOAD_WINDOW", 600),
        # Presigned GETs handed to analyzers: at most 5 minutes.
        download_url_ttl=min(300, _int("KADR_DOWNLOAD_URL_TTL", 300)),
        results_table=os.environ.get("KADR_RESULTS_TABLE", f"kadr-{stage}-results"),
        violations_table=os.environ.get("KADR_VIOLATIONS_TABLE", f"kadr-{stage}-violations"),
        bulk_table=os.environ.get("KADR_BULK_TABLE", f"kadr-{stage}-bulk"),
        # The built-in analyzer's work and the ingestion of every analyzer's result (chalicelib.review).
        analysis_queue=os.environ.get("KADR_ANALYSIS_QUEUE", f"kadr-{stage}-analysis"),
        # Findings, comments and the owner's conclusion, one partition per file.
        findings_table=os.environ.get("KADR_FINDINGS_TABLE", f"kadr-{stage}-findings"),
        # Live status (chalicelib.realtime): WebSocket connections and their subscriptions.
        realtime_table=os.environ.get("KADR_REALTIME_TABLE", f"kadr-{stage}-realtime"),
        # Read where the stream handler is registered (app.py). The packaged template points the
        # event source at the files table's StreamArn itself (infra/package.py); the local stack
        # sets the stream moto made.
        files_stream_arn=os.environ.get(
            "KADR_FILES_STREAM_ARN",
            f"arn:aws:dynamodb:{os.environ.get('AWS_DEFAULT_REGION', 'us-east-1')}:000000000000:"
            f"table/kadr-{stage}-files/stream/unset"),
        # The WebSocket API's management endpoint (post_to_connection): on AWS
        # https://{api-id}.execute-api.{region}.amazonaws.com/{stage} (the packaged template sets
        # it), locally the gateway's http://127.0.0.1:8001. From configuration, never from an
        # event (aws/chalice #1991), so every handler pushes the same way.
        ws_management_url=os.environ.get("KADR_WS_MANAGEMENT_URL") or None,
        ws_max_subscriptions=_int("KADR_WS_MAX_SUBSCRIPTIONS", 100),
        # API Gateway ends a WebSocket connection after 2 hours, or 10 minutes without a message.
        ws_connection_ttl=_int("KADR_WS_CONNECTION_TTL", 7200),
        ws_idle_timeout=_int("KADR_WS_IDLE_TIMEOUT", 600),
        # Set only by the local stack (infra/stack.py); relaxes nothing but the secret's length.
        local=os.environ.get("KADR_LOCAL") == "1",
        # The live channel's URL for browsers (the console connects to it; its CSP allows it).
        # Unset: derived from the WebSocket API's management endpoint (chalicelib.console.service).
        ws_url=os.environ.get("KADR_WS_URL") or None,
    )

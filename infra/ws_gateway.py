"""The local stand-in for API Gateway's WebSocket API: one aiohttp server on one port.

- ``GET /`` (WebSocket upgrade, ``?token=``): invokes the app's ``$connect`` handler entry point
  (the same ``app.handler_map`` callable Lambda runs, so middleware runs) with an API-Gateway-shaped
  event; a non-2xx ``statusCode`` refuses the handshake with that status, as API Gateway does.
  Each client message goes to ``$default`` (one at a time per connection), the end of the
  connection to ``$disconnect``. A handler that raises sends the client API Gateway's
  ``{"message": "Internal server error", ...}``.
- ``POST/GET/DELETE /@connections/{id}`` (also under ``/{stage}/``): the management API that
  ``apigatewaymanagementapi`` calls, in AWS's camelCase JSON; an unknown connection is a 410 with
  ``x-amzn-ErrorType: GoneException``, so boto3 raises ``GoneException`` as it does against AWS.
- AWS's limits: 32 KB per client frame (``FrameGuard`` reads frame headers in front of aiohttp's
  parser; a bigger frame closes the connection with 1009), 128 KB per message either way (a
  client message over it: 1009; a post over it: 413 ``PayloadTooLargeException``), 10 minutes
  without a client message and 2 hours per connection (then 1001, and ``$disconnect`` runs). A
  post over 32 KB is sent (AWS would fragment it) with a warning: the app keeps every message
  under one frame itself (``chalicelib.realtime.messages.encode``).

The server runs its own asyncio loop on a thread; handlers run on a thread pool, like concurrent
Lambda invocations. ``stop()`` closes every connection (each gets its ``$disconnect``) and frees the
port.
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.emulators import Component, LambdaContext

log = logging.getLogger("kadr.local.ws")

MAX_PAYLOAD = 128 * 1024
MAX_FRAME = 32 * 1024
CLOSE_GOING_AWAY = 1001


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


class FrameGuard:
    """Sits in front of aiohttp's WebSocket parser and reads each frame's header as the bytes
    arrive: a frame whose payload is over 32 KB (API Gateway's frame limit) calls ``too_big`` and
    nothing more reaches the parser. aiohttp itself only sees whole messages (limited to 128 KB)."""

    def __init__(self, inner: Any, too_big: Any, limit: int = MAX_FRAME) -> None:
        self.inner, self.too_big, self.limit = inner, too_big, limit
        self._header = b""
        self._skip = 0
        self.refused = False

    def _header_length(self) -> int | None:
        head = self._header
        if len(head) < 2:
            return None
        size = 2 + {126: 2, 127: 8}.get(head[1] & 0x7F, 0) + (4 if head[1] & 0x80 else 0)
        return size if len(head) >= size else None

    def _payload_length(self) -> int:
        length, head = self._header[1] & 0x7F, self._header
        if length == 126:
            return int.from_bytes(head[2:4], "big")
        if length == 127:
            return int.from_bytes(head[2:10], "big")
        return length

    def _scan(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.refused:
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                view = view[step:]
                continue
            self._header += bytes(view[:1])
            view = view[1:]
            size = self._header_length()
            if size is None:
                continue
            payload = self._payload_length()
            self._header = b""
            if payload > self.limit:
                self.refused = True
                self.too_big(payload)
                return
            self._skip = payload

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if not self.refused:
            self._scan(bytes(data))
        if self.refused:
            return False, b""
        return self.inner.feed_data(data)

    def feed_eof(self) -> None:
        self.inner.feed_eof()


@dataclass
class _Connection:
    ws: Any
    connected_at: float
    source_ip: str
    user_agent: str
    last_active: float
    closing: str | None = None
    sent: int = field(default=0)


class WebSocketGateway(Component):
    name = "ws"

    def __init__(self, app: Any, host: str, port: int, stage: str = "api", idle_timeout: float = 600,
                 max_lifetime: float = 7200, workers: int = 8) -> None:
        self._app = app
        self._routes = {route: config.name for route, config in app.websocket_handlers.items()}
        self.host, self.port, self.stage = host, port, stage
        self.url = f"ws://{host}:{port}"
        self.management_url = f"http://{host}:{port}"
        self.idle_timeout, self.max_lifetime = idle_timeout, max_lifetime
        self.connections: dict[str, _Connection] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="ws-handler")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Any = None
        self._thread = threading.Thread(target=self._serve, name="ws", daemon=True)
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self.invocations: dict[str, int] = {route: 0 for route in ("$connect", "$default", "$disconnect")}
        self._clients: set[asyncio.Task[Any]] = set()  # running WebSocket handlers (until $disconnect ran)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(30)
        if self._failed is not None:
            raise self._failed
        if not self._ready.is_set():
            raise RuntimeError("the WebSocket gateway did not start in 30 s")

    def _serve(self) -> None:
        from aiohttp import web

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=MAX_PAYLOAD + 1)
        app.router.add_get("/", self._websocket)
        for prefix in ("", "/{stage}"):
            path = prefix + "/@connections/{connection_id}"
            app.router.add_post(path, self._post)
            app.router.add_get(path, self._get)
            app.router.add_delete(path, self._delete)
        try:
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)  # access lines would carry ?token=
            loop.run_until_complete(self._runner.setup())
            loop.run_until_complete(web.TCPSite(self._runner, self.host, self.port, reuse_address=True).start())
            self._watchdog = loop.create_task(self._watch())
        except BaseException as exc:  # noqa: BLE001 - handed to start()
            self._failed = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    def stop(self, timeout: float = 3) -> None:
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            self._pool.shutdown(wait=False)
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        except Exception as exc:  # noqa: BLE001 - stop the loop whatever happened
            log.warning("ws: shutdown did not finish cleanly: %r", exc)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _shutdown(self) -> None:
        self._watchdog.cancel()
        await asyncio.gather(*(self._close(cid, "Going away") for cid in list(self.connections)),
                             return_exceptions=True)
        if self._clients:  # their $disconnect handlers, briefly (Ctrl-C must end within 5 s)
            await asyncio.wait(set(self._clients), timeout=1.5)
        await self._runner.cleanup()

    # ------------------------------------------------------------ invoking the app

    def _context(self, route: str, event_type: str, connection_id: str, connection: _Connection | None,
                 request: Any = None) -> dict[str, Any]:
        now = time.time()
        connected_at = connection.connected_at if connection else now
        context = {
            "routeKey": route, "eventType": event_type, "extendedRequestId": uuid.uuid4().hex[:16] + "=",
            "requestTime": _request_time(now), "messageDirection": "IN", "stage": self.stage,
            "connectedAt": int(connected_at * 1000), "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": connection.source_ip if connection else (request.remote or ""),
                         "userAgent": connection.user_agent if connection else request.headers.get("User-Agent", "")},
            "requestId": uuid.uuid4().hex[:16] + "=", "domainName": f"{self.host}:{self.port}",
            "connectionId": connection_id, "apiId": "local"}
        if route == "$default":
            context["messageId"] = uuid.uuid4().hex[:16] + "="
        return context

    async def _invoke(self, route: str, event: dict[str, Any]) -> Any:
        name = self._routes.get(route)
        if name is None:
            return None
        self.invocations[route] += 1
        handler = self._app.handler_map[name]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: handler(event, LambdaContext(name, timeout_s=29)))

    # ------------------------------------------------------------ WebSocket clients

    async def _websocket(self, request: Any) -> Any:
        from aiohttp import WSMsgType, web

        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"message": "Use a WebSocket client"}, status=426)
        connection_id = base64.urlsafe_b64encode(os.urandom(11)).decode()
        headers = dict(request.headers)
        query = {k: v for k, v in request.query.items()}
        event = {"headers": headers, "multiValueHeaders": {k: request.headers.getall(k) for k in request.headers},
                 "requestContext": self._context("$connect", "CONNECT", connection_id, None, request),
                 "isBase64Encoded": False}
        if query:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: request.query.getall(k) for k in request.query}
        try:
            answer = await self._invoke("$connect", event)
        except Exception:
            log.exception("ws: $connect handler failed")
            return web.json_response({"message": "Internal server error"}, status=500)
        status = answer.get("statusCode", 200) if isinstance(answer, dict) else 200
        if not 200 <= int(status) < 300:
            return web.json_response({"message": "Forbidden" if status == 403 else "Unauthorized"
                                      if status == 401 else "Refused"}, status=int(status))
        ws = web.WebSocketResponse(max_msg_size=MAX_PAYLOAD, autoping=True, autoclose=True, compress=False, timeout=2)
        now = time.time()
        connection = _Connection(ws, now, request.remote or "", request.headers.get("User-Agent", ""), now)
        self.connections[connection_id] = connection  # known before the client hears the 101
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
            task.add_done_callback(self._clients.discard)
        try:
            await ws.prepare(request)
            protocol = request.protocol  # aiohttp hands over messages: frames are checked here

            def too_big(size: int) -> None:
                log.warning("ws: a %d-byte frame from %s is over 32 KB; closing with 1009", size, connection_id)
                asyncio.ensure_future(self._close(connection_id, "Frame too big", code=1009))

            protocol._payload_parser = FrameGuard(protocol._payload_parser, too_big)
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                connection.last_active = time.time()
                binary = msg.type is WSMsgType.BINARY
                body = base64.b64encode(msg.data).decode() if binary else msg.data
                message = {"requestContext": self._context("$default", "MESSAGE", connection_id, connection),
                           "body": body, "isBase64Encoded": binary}
                try:
                    await self._invoke("$default", message)
                except Exception:
                    log.exception("ws: $default handler failed")
                    await ws.send_str(json.dumps({"message": "Internal server error", "connectionId": connection_id,
                                                  "requestId": message["requestContext"]["requestId"]}))
        finally:
            self.connections.pop(connection_id, None)
            reason = connection.closing or ("Client closed" if ws.close_code in (1000, 1001, None) else
                                            f"Connection closed with {ws.close_code}")
            gone = {"headers": {"Host": f"{self.host}:{self.port}"},
                    "requestContext": {**self._context("$disconnect", "DISCONNECT", connection_id, connection),
                                       "disconnectStatusCode": ws.close_code or 1006,
                                       "disconnectReason": reason},
                    "isBase64Encoded": False}
            try:
                await self._invoke("$disconnect", gone)
            except Exception:
                log.exception("ws: $disconnect handler failed")
        return ws

    async def _close(self, connection_id: str, reason: str, code: int = CLOSE_GOING_AWAY) -> None:
        connection = self.connections.get(connection_id)
        if connection is not None and connection.closing is None:
            connection.closing = reason
            await connection.ws.close(code=code, message=reason.encode())

    async def _watch(self) -> None:
        """API Gateway's idle (10 min) and lifetime (2 h) limits."""
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout / 4))
            now = time.time()
            for cid, connection in list(self.connections.items()):
                if now - connection.connected_at >= self.max_lifetime:
                    asyncio.ensure_future(self._close(cid, "Connection lifetime exceeded"))
                elif now - connection.last_active >= self.idle_timeout:
                    asyncio.ensure_future(self._close(cid, "Going away (idle)"))

    # ------------------------------------------------------------ @connections (management API)

    @staticmethod
    def _error(status: int, kind: str, message: str) -> Any:
        from aiohttp import web

        return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": kind})

    async def _post(self, request: Any) -> Any:
        from aiohttp import web

        connection_id = request.match_info["connection_id"]
        data = await request.read()
        if len(data) > MAX_PAYLOAD:
            return self._error(413, "PayloadTooLargeException", f"Message of {len(data)} bytes is over {MAX_PAYLOAD}")
        connection = self.connections.get(connection_id)
        if connection is None or connection.closing or connection.ws.closed:
            return self._error(410, "GoneException", f"Connection {connection_id} is gone")
        if len(data) > MAX_FRAME:
            log.warning("ws: a %d-byte message to %s is over one 32 KB frame", len(data), connection_id)
        try:
            text = data.decode()
        except UnicodeDecodeError:
            await connection.ws.send_bytes(data)
        else:
            await connection.ws.send_str(text)
        connection.sent += 1
        return web.Response(status=200)

    async def _get(self, request: Any) -> Any:
        from aiohttp import web

        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None or connection.closing:
            return self._error(410, "GoneException", f"Connection {connection_id} is gone")
        return web.json_response({"connectedAt": _iso(connection.connected_at),
                                  "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                                  "lastActiveAt": _iso(connection.last_active)})

    async def _delete(self, request: Any) -> Any:
        from aiohttp import web

        connection_id = request.match_info["connection_id"]
        if connection_id not in self.connections:
            return self._error(410, "GoneException", f"Connection {connection_id} is gone")
        await self._close(connection_id, "Connection deleted")
        return web.Response(status=204)

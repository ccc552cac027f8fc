"""Live status on the local stack: a real WebSocket client (aiohttp) against the local gateway,
pushes from the files table's stream through the stream pump, the @connections API with boto3.

Each push is timed from the change it reports (the row's own time stamp, same machine clock) to
the client's receipt: the issue asks for each within 1 s.
"""
from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from chalicelib.auth import issue_token
from chalicelib.clock import iso
from chalicelib.provider import client, settings
from chalicelib.realtime import store
from chalicelib.refer import service as refer
from chalicelib.refer.schemas import EXAMPLE
from chalicelib.uploads.models import FileRow
from infra.emulators import StreamPump
from infra.stack import free_port, streams_client
from infra.ws_gateway import WebSocketGateway
from tests.helpers import Api, upload_file

BODY = "ИНТ. КУХНЯ — НОЧЬ\nНа столе нож.\n".encode() * 50
WITHIN_S = 1.0
# Statuses a subscriber sees for an uploaded and analysed file (the test reads until the last one).
STATUSES = ["processing", "ready", "db_ready"]
# Videos wait for an external analyzer, so the tests' own analyzer is the only one to touch the key
# (the built-in analyzer claims every screenplay's key at once).
VIDEO = {"kind": "video", "content_type": "video/mp4", "filename": "clip.mp4"}


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class Watcher:
    """A WebSocket client that records every message with its time of receipt."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.got: list[tuple[float, dict[str, Any]]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def next(self, timeout: float = 15) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        data = json.loads(message.data)
        self.got.append((time.time(), data))
        return data

    async def until(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            data = await self.next(timeout=max(0.1, deadline - time.monotonic()))
            if predicate(data):
                return data

    def received_at(self, message: dict[str, Any]) -> float:
        return next(at for at, data in self.got if data is message)

    async def subscribe(self, file_id: str) -> dict[str, Any]:
        await self.send({"action": "subscribe", "file_id": file_id})
        return await self.until(lambda m: m["type"] in ("subscribed", "error"))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def connect(stack: Any, token: str | None) -> tuple[aiohttp.ClientSession, Watcher]:
    session = aiohttp.ClientSession()
    url = stack.ws_url + (f"/?token={token}" if token is not None else "/")
    try:
        ws = await session.ws_connect(url, autoping=True)
    except BaseException:
        await session.close()
        raise
    return session, Watcher(ws)


def create_file(api: Api, kind: dict[str, str] = VIDEO) -> dict[str, Any]:
    response = api.post("/files", role="uploader", json={"size": len(BODY), **kind})
    assert response.status_code == 201, response.text
    return response.json()


def analyzer(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(sub, 'analyzer')}"}


def test_a_subscriber_sees_each_status_and_the_refer_url_within_a_second(stack, api: Api) -> None:
    async def scenario() -> None:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        try:
            file = create_file(api)
            subscribed = await watcher.subscribe(file["id"])
            assert (subscribed["type"], subscribed["status"], subscribed["sequence"]) == ("subscribed", "pending", 1)
            from tests.helpers import upload_parts

            done = api.post(f"/files/{file['id']}/complete", role="uploader",
                            json={"parts": upload_parts(api, file, BODY)})
            assert done.status_code == 200, done.text
            processing = await watcher.until(lambda m: m["type"] == "status")
            issued = await watcher.until(lambda m: m["type"] == "refer")
            assert (processing["status"], processing["sequence"]) == ("processing", 2)
            assert (issued["event"], issued["sequence"]) == ("issued", 3)
            view = api.get(f"/files/{file['id']}/refer", role="uploader").json()
            assert issued["url"] == view["url"] == f"{api.base}/download/{view['key']}"
            assert issued["expires_at"] == view["expires_at"]
            for message in (processing, issued):  # one write: both carry the move's time
                assert watcher.received_at(message) - epoch(processing["at"]) < WITHIN_S, message

            # The analyzer downloads with the pushed URL (the key freezes) and posts its result.
            got = api.session.get(issued["url"], headers=analyzer("ai-live"), allow_redirects=False, timeout=30)
            assert got.status_code == 302, got.text
            frozen = await watcher.until(lambda m: m["type"] == "refer")
            assert (frozen["event"], frozen["url"], frozen["sequence"]) == ("frozen", issued["url"], 4)
            posted = api.session.post(issued["url"], json=EXAMPLE, headers=analyzer("ai-live"), timeout=30)
            assert posted.status_code == 201, posted.text
            seen = [processing]
            while seen[-1]["status"] != STATUSES[-1]:
                seen.append(await watcher.until(lambda m: m["type"] == "status"))
            assert [m["status"] for m in seen] == STATUSES
            for message in seen:
                assert watcher.received_at(message) - epoch(message["at"]) < WITHIN_S, message
            sequences = [data["sequence"] for _, data in watcher.got if data["type"] in ("status", "refer")]
            assert sequences == sorted(set(sequences)), "one strictly increasing sequence per file"
            latencies = [watcher.received_at(m) - epoch(m["at"]) for m in seen]
            print(f"push latency per status (s): {[round(x, 3) for x in latencies]}")
        finally:
            await session.close()

    run(scenario())


def test_a_screenplay_is_followed_live_to_db_ready_by_the_built_in_analyzer(stack, api: Api) -> None:
    """No external analyzer: the built-in one claims the key (frozen), posts, and the rating lands."""
    screenplay = {"kind": "screenplay", "content_type": "text/plain", "filename": "пьеса.txt"}

    async def scenario() -> None:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        try:
            file = create_file(api, screenplay)
            assert (await watcher.subscribe(file["id"]))["status"] == "pending"
            from tests.helpers import upload_parts

            done = api.post(f"/files/{file['id']}/complete", role="uploader",
                            json={"parts": upload_parts(api, file, BODY)})
            assert done.status_code == 200, done.text
            seen = [await watcher.until(lambda m: m["type"] == "status")]
            while seen[-1]["status"] != "db_ready":
                seen.append(await watcher.until(lambda m: m["type"] == "status"))
            assert [m["status"] for m in seen] == STATUSES
            refer_events = [data["event"] for _, data in watcher.got if data["type"] == "refer"]
            assert refer_events[:2] == ["issued", "frozen"], refer_events
            sequences = [data["sequence"] for _, data in watcher.got if data["type"] in ("status", "refer")]
            assert sequences == sorted(set(sequences)), "one strictly increasing sequence per file"
            for message in seen:
                assert watcher.received_at(message) - epoch(message["at"]) < WITHIN_S, message
            assert api.get(f"/files/{file['id']}", role="uploader").json()["rating"] is not None
        finally:
            await session.close()

    run(scenario())


def test_a_reissue_and_a_rotation_are_pushed_with_their_new_urls(stack, api: Api) -> None:
    file = upload_file(api, BODY, **VIDEO)

    async def scenario() -> None:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        try:
            snapshot = await watcher.subscribe(file["id"])
            view = api.get(f"/files/{file['id']}/refer", role="uploader").json()
            assert snapshot["sequence"] == 3 and snapshot["refer"] == {
                "state": "active", "url": view["url"], "expires_at": view["expires_at"]}
            reissued = api.post(f"/files/{file['id']}/refer", role="uploader").json()
            # The upload's own events may still be on their way: a client drops what the
            # subscription's sequence already covers.
            message = await watcher.until(lambda m: m["type"] == "refer" and m["sequence"] > 3)
            assert (message["event"], message["url"], message["sequence"]) == ("issued", reissued["url"], 4)
            row = FileRow.get(file["id"], consistent_read=True)
            assert watcher.received_at(message) - epoch(row.updated_at) < WITHIN_S
            # What the rotation timer writes at 90 s (chalicelib.refer.service._fire), written now:
            # the push derives window 1's key, the one the API serves from that moment on.
            row.update(actions=[FileRow.refer_event.set("rotated"), FileRow.refer_window.set(1),
                                FileRow.sequence.add(1), FileRow.updated_at.set(iso(time.time()))])
            written = time.time()
            rotated = await watcher.until(lambda m: m["type"] == "refer" and m["sequence"] > 4)
            assert (rotated["event"], rotated["sequence"]) == ("rotated", 5)
            assert rotated["url"] == f"{api.base}/download/{refer.key_of(row, 1)}" != message["url"]
            assert watcher.received_at(rotated) - written < WITHIN_S
        finally:
            await session.close()

    run(scenario())


def test_a_real_rotation_is_pushed_within_a_second(stack, api: Api) -> None:
    """The whole path of `make dev`, no settable clock: the SQS delay timer fires at 90 s, its
    handler writes the rotation, the stream pump pushes it (waits ~90 s)."""
    file = upload_file(api, BODY, **VIDEO)
    before = api.get(f"/files/{file['id']}/refer", role="uploader").json()
    due = epoch(before["next_rotation_at"])

    async def scenario() -> None:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        try:
            subscribed = await watcher.subscribe(file["id"])
            rotated = await watcher.until(
                lambda m: m["type"] == "refer" and m["event"] == "rotated" and m["sequence"] > subscribed["sequence"],
                timeout=max(0.0, due - time.time()) + 30)
            row = FileRow.get(file["id"], consistent_read=True)
            assert rotated["sequence"] == int(row.sequence) == 4
            assert watcher.received_at(rotated) - epoch(row.updated_at) < WITHIN_S
            after = api.get(f"/files/{file['id']}/refer", role="uploader").json()
            assert rotated["url"] == after["url"] != before["url"] and rotated["expires_at"] == after["expires_at"]
            print(f"rotation: written {epoch(row.updated_at) - due:+.2f} s from due, pushed in "
                  f"{watcher.received_at(rotated) - epoch(row.updated_at):.3f} s")
        finally:
            await session.close()

    run(scenario())


@pytest.mark.parametrize("token", [None, "", "not-a-token", "eyJhbGciOiJub25lIn0.e30."])
def test_a_client_without_a_valid_token_is_refused(stack, token: str | None) -> None:
    async def scenario() -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            session, _ = await connect(stack, token)
            await session.close()
        assert refused.value.status == 401

    run(scenario())


def test_a_stranger_cannot_subscribe_to_someone_elses_file(stack, api: Api, capfd) -> None:  # noqa: ANN001
    file = create_file(api)
    capfd.readouterr()

    async def scenario() -> None:
        session, watcher = await connect(stack, issue_token("stranger", "uploader"))
        try:
            reply = await watcher.subscribe(file["id"])
            assert reply == {"type": "error", "code": "not_found", "message": "no such file", "file_id": file["id"]}
            assert store.subscribers(f"file:{file['id']}") == []
            await watcher.send({"action": "ping"})
            assert await watcher.next() == {"type": "pong"}
        finally:
            await session.close()

    run(scenario())
    # The gateway invoked the Lambda entry point, so the app's middleware ran: flush_after
    # emitted the connect's metric (EMF on stdout).
    assert '"WebSocketConnects"' in capfd.readouterr().out


def test_a_vanished_client_is_pruned(stack, api: Api) -> None:
    """Two ways to vanish: the TCP connection drops (the gateway runs $disconnect), and a connection
    API Gateway forgot without a $disconnect (best effort on AWS): its first push is a
    GoneException and the connection and its subscriptions are removed."""
    file = create_file(api)
    ghost = "ghost-" + file["id"][:8]
    from chalicelib.auth import Principal

    store.subscribe(store.open_connection(ghost, Principal("local-uploader", "uploader")), f"file:{file['id']}")

    async def scenario() -> None:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        dropped_session, dropped = await connect(stack, stack.tokens["uploader"])
        try:
            await watcher.subscribe(file["id"])
            await dropped.subscribe(file["id"])
            assert len(store.subscribers(f"file:{file['id']}")) == 3
            dropped.ws._response.connection.transport.abort()  # no close frame: the socket just dies
            deadline = time.monotonic() + 10
            while len(store.subscribers(f"file:{file['id']}")) > 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(store.subscribers(f"file:{file['id']}")) == 2 and ghost in store.subscribers(
                f"file:{file['id']}")
            api.delete(f"/files/{file['id']}/upload", role="uploader")  # a status move: pushed to both
            moved = await watcher.until(lambda m: m["type"] == "status")
            assert moved["status"] == "error"
            deadline = time.monotonic() + 10  # the fan-out is parallel: the ghost's 410 may come later
            while store.connection(ghost) is not None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert store.connection(ghost) is None
            assert ghost not in store.subscribers(f"file:{file['id']}") != []
        finally:
            await dropped_session.close()
            await session.close()

    run(scenario())


def test_the_connections_api_speaks_awss_json_and_errors(stack) -> None:
    from chalicelib.realtime import push

    gateway = stack.component("ws")
    management = push._client()  # the app's own client, configured by KADR_WS_MANAGEMENT_URL
    assert management.meta.endpoint_url == gateway.management_url

    async def scenario() -> None:
        before = set(gateway.connections)
        session, watcher = await connect(stack, stack.tokens["reader"])
        try:
            await watcher.send({"action": "ping"})
            assert await watcher.next() == {"type": "pong"}
            (connection_id,) = set(gateway.connections) - before
            info = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            assert info["Identity"]["SourceIp"] == "127.0.0.1" and info["ConnectedAt"] <= info["LastActiveAt"]
            await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id, Data=b'{"hello":1}')
            assert await watcher.next() == {"hello": 1}
            with pytest.raises(management.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id,
                                        Data=b"x" * (128 * 1024 + 1))
            with pytest.raises(management.exceptions.GoneException):
                await asyncio.to_thread(management.post_to_connection, ConnectionId="no-such-connection", Data=b"{}")
            await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
            closed = await watcher.ws.receive(timeout=5)
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closed
            deadline = time.monotonic() + 10
            while store.connection(connection_id) is not None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert store.connection(connection_id) is None  # $disconnect ran
            with pytest.raises(management.exceptions.GoneException):
                await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
        finally:
            await session.close()

    run(scenario())


def test_idle_and_long_lived_clients_are_closed(stack) -> None:
    """A gateway of its own with a 1 s idle limit and a 3 s lifetime (API Gateway's: 10 min, 2 h)."""
    gateway = WebSocketGateway(stack.app, "127.0.0.1", free_port(), idle_timeout=1, max_lifetime=3)
    gateway.start()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{gateway.url}/?token={stack.tokens['uploader']}") as ws:
                assert len(gateway.connections) == 1  # registered before the handshake's answer
                closed = await ws.receive(timeout=10)
                assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert ws.close_code == 1001
            async with session.ws_connect(f"{gateway.url}/?token={stack.tokens['uploader']}") as ws:
                # Busy, never idle for 1 s: the 3 s lifetime ends it. (Its pongs go to the stack's
                # own gateway, which KADR_WS_MANAGEMENT_URL names, so none come back here.)
                opened = time.monotonic()

                async def keep_busy() -> None:
                    while not ws.closed:
                        await ws.send_str(json.dumps({"action": "ping"}))
                        await asyncio.sleep(0.3)

                busy = asyncio.create_task(keep_busy())
                closed = await ws.receive(timeout=10)
                busy.cancel()
                assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert ws.close_code == 1001 and time.monotonic() - opened >= 2.5
        deadline = time.monotonic() + 10
        while gateway.invocations["$disconnect"] < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    try:
        run(scenario())
    finally:
        gateway.stop()
    assert gateway.invocations["$connect"] == gateway.invocations["$disconnect"] == 2


def frame(payload: bytes, opcode: int, fin: bool = True) -> bytes:
    """A client's WebSocket frame (masked), written raw: aiohttp's client never fragments."""
    import os

    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else (bytes([0x80 | 126]) + size.to_bytes(2, "big") if size < 65536
                                                       else bytes([0x80 | 127]) + size.to_bytes(8, "big"))
    mask = os.urandom(4)
    return bytes([(0x80 if fin else 0) | opcode]) + length + mask + bytes(
        b ^ mask[i % 4] for i, b in enumerate(payload))


def fragments(payload: bytes, size: int) -> bytes:
    chunks = [payload[i:i + size] for i in range(0, len(payload), size)]
    return b"".join(frame(chunk, 0x1 if n == 0 else 0x0, fin=n == len(chunks) - 1) for n, chunk in enumerate(chunks))


def test_frames_over_32_kb_and_messages_over_128_kb_end_the_connection(stack) -> None:
    """API Gateway's limits: a 100 KB message in four frames of 25 KB reaches the app (which
    answers bad_request: actions are small); one 40 KB frame, or 130 KB in frames of 26 KB, closes
    the connection with 1009."""
    async def send_raw(data: bytes) -> aiohttp.WSMessage:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        try:
            watcher.ws._response.connection.transport.write(data)
            return await watcher.ws.receive(timeout=10)
        finally:
            await session.close()

    async def scenario() -> None:
        body = json.dumps({"action": "ping", "pad": "x" * 100_000}).encode()
        answer = await send_raw(fragments(body, 25 * 1024))
        assert answer.type == aiohttp.WSMsgType.TEXT and json.loads(answer.data)["code"] == "bad_request"
        for data in (frame(b"x" * 40 * 1024, 0x1), fragments(b"x" * 130 * 1024, 26 * 1024)):
            closed = await send_raw(data)
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closed
            assert closed.data == 1009, closed

    run(scenario())


def test_stopping_the_gateway_closes_its_clients_and_frees_the_port(stack) -> None:
    """What Ctrl-C does to the gateway in `make dev`: clients get 1001, $disconnect runs, the port
    is free again."""
    import socket

    port = free_port()
    gateway = WebSocketGateway(stack.app, "127.0.0.1", port)
    gateway.start()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{gateway.url}/?token={stack.tokens['uploader']}") as ws:
                reading = asyncio.create_task(ws.receive(timeout=10))  # a client reads all along
                await asyncio.sleep(0.1)
                started = time.monotonic()
                await asyncio.to_thread(gateway.stop)
                assert time.monotonic() - started < 3
                closed = await reading
                assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert ws.close_code == 1001

    run(scenario())
    assert gateway.invocations == {"$connect": 1, "$default": 0, "$disconnect": 1}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_the_stream_pump_hands_over_aws_shaped_records_in_order_and_retries_a_failed_batch(stack, api: Api) -> None:
    from chalice.app import DynamoDBEvent

    seen: list[dict[str, Any]] = []
    calls = [0]

    def handler(event: dict[str, Any], context: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the first batch fails")
        records = list(DynamoDBEvent(event, context))  # Chalice's own record class accepts them
        assert all(r.table_name == settings().files_table for r in records)
        seen.extend(event["Records"])

    source = SimpleNamespace(name="probe", stream_arn=settings().files_stream_arn, batch_size=100,
                             starting_position="LATEST")
    pump = StreamPump(SimpleNamespace(handler_map={"probe": handler}), source, streams_client(stack.config),
                      client("dynamodb"), settings().region, retry_delay=0.01)
    first, second = create_file(api), create_file(api)
    assert pump.poll_once() >= 2 and pump.failures == 1 and pump.batches == 1
    ids = [r["dynamodb"]["Keys"]["file_id"]["S"] for r in seen]
    assert ids.index(first["id"]) < ids.index(second["id"])
    record = seen[ids.index(first["id"])]
    assert record["eventSourceARN"] == pump.stream_arn and isinstance(
        record["dynamodb"]["ApproximateCreationDateTime"], int)
    # An expired iterator is rebuilt after the last record handed over: nothing lost or repeated.
    (shard,) = pump._iterators
    pump._iterators[shard] = "expired-iterator"
    third = create_file(api)
    before = len(seen)
    assert pump.poll_once() == 0 and pump.expired_iterators == 1
    pump.poll_once()
    after = [r["dynamodb"]["Keys"]["file_id"]["S"] for r in seen[before:]]
    assert third["id"] in after and first["id"] not in after and second["id"] not in after


def test_a_bulk_task_subscriber_sees_its_log_lines_and_progress_live(stack, api: Api) -> None:
    """Bulk uploads on the channel: the stream pump writes a file's move as a log line of its task,
    which is pushed at once, and the task's progress follows."""
    from tests.helpers import upload_parts

    item = {"filename": "clip.mp4", "size": len(BODY), "content_type": "video/mp4", "kind": "video",
            "account": "acme"}
    made = api.post("/bulk-uploads", role="uploader", json={"name": "Live bulk", "items": [item]})
    assert made.status_code == 201, made.text
    task = made.json()
    entry = task["items"][0]

    async def scenario() -> None:
        session, watcher = await connect(stack, stack.tokens["uploader"])
        try:
            await watcher.send({"action": "subscribe", "task_id": task["id"]})
            assert (await watcher.until(lambda m: m["type"] in ("subscribed", "error"))) == {
                "type": "subscribed", "task_id": task["id"]}
            done = api.post(f"/files/{entry['file_id']}/complete", role="uploader", json={
                "parts": upload_parts(api, {"id": entry["file_id"], "upload": entry["upload"]}, BODY)})
            assert done.status_code == 200, done.text
            stored = await watcher.until(lambda m: m["type"] == "log" and "stored and verified" in m["message"])
            assert (stored["task_id"], stored["account"], stored["file_id"]) == (task["id"], "acme", entry["file_id"])
            progress = await watcher.until(lambda m: m["type"] == "progress" and m.get("succeeded") == 1)
            assert progress["task_id"] == task["id"] and progress["status"] == "completed"
            assert watcher.received_at(stored) - epoch(stored["at"]) < WITHIN_S
        finally:
            await session.close()

    run(scenario())

"""Live status handlers with hand-built API Gateway WebSocket events and DynamoDB stream records
(chalice.test generates neither), on in-process moto and the settable clock. Pushes go to a fake
management API that records what each connection got and answers GoneException for gone ones."""
from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from typing import Any

import pytest

from chalicelib.clock import SettableClock, iso
from chalicelib.realtime import messages, push, store, topics
from chalicelib.realtime.models import (
    ConnectionRow,
    SubscriptionRow,
    connection_pk,
    topic_pk,
)
from chalicelib.uploads.models import FileRow
from tests.unit.conftest import auth, token
from tests.unit.test_refer import download, refer, stored_file

BASE = "https://api.example.com/api"


class GoneException(Exception):
    pass


class FakeGateway:
    """apigatewaymanagementapi's post_to_connection: records by connection; ``gone`` ones raise."""

    class exceptions:
        GoneException = GoneException

    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        assert len(Data) <= messages.MAX_MESSAGE_BYTES
        if ConnectionId in self.gone:
            raise GoneException(ConnectionId)
        self.sent[ConnectionId].append(json.loads(Data))

    def last(self, connection_id: str) -> dict[str, Any]:
        return self.sent[connection_id][-1]


@pytest.fixture
def gateway(aws, monkeypatch) -> FakeGateway:
    fake = FakeGateway()
    monkeypatch.setattr(push, "_client", lambda: fake)
    monkeypatch.setattr(aws, "settings", dataclasses.replace(aws.settings, public_base_url=BASE,
                                                             ws_management_url="https://ws.example/api"))
    return fake


def ws_event(route: str, connection_id: str, body: str | None = None, query: dict | None = None) -> dict:
    kinds = {"$connect": "CONNECT", "$disconnect": "DISCONNECT", "$default": "MESSAGE"}
    event: dict[str, Any] = {"requestContext": {
        "routeKey": route, "eventType": kinds[route], "connectionId": connection_id, "stage": "api",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "apiId": "abc123", "requestId": "r-1",
        "messageDirection": "IN", "connectedAt": 1_790_000_000_000, "identity": {"sourceIp": "192.0.2.1"}},
        "isBase64Encoded": False}
    if query is not None:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event


def connect(http, connection_id: str, role: str = "uploader", sub: str | None = None) -> int:
    response = http.lambda_.invoke("ws_connect", ws_event("$connect", connection_id,
                                                          query={"token": token(role, sub)}))
    return response.payload["statusCode"]


def say(http, connection_id: str, message: dict | str) -> None:
    body = message if isinstance(message, str) else json.dumps(message)
    response = http.lambda_.invoke("ws_message", ws_event("$default", connection_id, body=body))
    assert response.payload == {"statusCode": 200}


def image(file_id: str) -> dict[str, Any]:
    return FileRow.get(file_id, consistent_read=True).serialize()


def stream_event(*changes: tuple[dict | None, dict]) -> dict[str, Any]:
    """AWS's DynamoDB stream event: one MODIFY (or INSERT) record per (old, new) image pair."""
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/kadr-dev-files/stream/2026-11-23T00:00:00.000"
    records = []
    for n, (old, new) in enumerate(changes):
        body = {"ApproximateCreationDateTime": 1_790_000_000, "Keys": {"file_id": new["file_id"]},
                "NewImage": new, "SequenceNumber": f"{100 + n:021d}", "SizeBytes": 512,
                "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if old is not None:
            body["OldImage"] = old
        records.append({"eventID": f"e{n}", "eventName": "MODIFY" if old else "INSERT", "eventVersion": "1.1",
                        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": body,
                        "eventSourceARN": arn})
    return {"Records": records}


def new_file(http) -> dict[str, Any]:
    spec = {"filename": "a.txt", "size": 10, "content_type": "text/plain", "kind": "screenplay"}
    response = http.http.post("/files", headers=auth("uploader"), body=json.dumps(spec))
    assert response.status_code == 201
    return json.loads(response.body)


# ---------------------------------------------------------------- connect

@pytest.mark.parametrize("query", [None, {}, {"token": ""}, {"token": "not-a-jwt"}, {"token": "a.b.c"}])
def test_a_connect_without_a_valid_token_is_refused(http, gateway, query) -> None:
    response = http.lambda_.invoke("ws_connect", ws_event("$connect", "c-refused", query=query))
    assert response.payload["statusCode"] == 401
    assert store.connection("c-refused") is None


def test_a_connect_with_a_token_opens_a_connection_that_lives_at_most_2_hours(http, gateway, clock) -> None:
    assert connect(http, "c-open", sub="alice") == 200
    row = store.connection("c-open")
    assert row is not None and (row.sub, row.role) == ("alice", "uploader")
    assert row.ends_at == clock.now() + 7200 and row.expires_at == clock.now() + 600


def test_an_idle_connection_ends_after_10_minutes_and_a_ping_restarts_the_count(http, gateway, clock) -> None:
    connect(http, "c-idle")
    clock.advance(500)
    say(http, "c-idle", {"action": "ping"})
    assert gateway.last("c-idle") == {"type": "pong"}
    clock.advance(500)  # 1,000 s after connecting, 500 after the ping
    say(http, "c-idle", {"action": "ping"})
    assert gateway.last("c-idle") == {"type": "pong"}
    clock.advance(601)
    say(http, "c-idle", {"action": "ping"})
    assert gateway.last("c-idle")["code"] == "gone"


def test_no_connection_outlives_2_hours_even_when_busy(http, gateway, clock) -> None:
    connect(http, "c-long")
    file = new_file(http)
    say(http, "c-long", {"action": "subscribe", "file_id": file["id"]})
    for _ in range(13):  # 7,020 s
        clock.advance(540)
        say(http, "c-long", {"action": "ping"})
    assert gateway.last("c-long") == {"type": "pong"} and store.subscribers(f"file:{file['id']}") == ["c-long"]
    clock.advance(540)  # 7,560 s
    assert store.subscribers(f"file:{file['id']}") == []
    say(http, "c-long", {"action": "ping"})
    assert gateway.last("c-long")["code"] == "gone"


# ---------------------------------------------------------------- subscribe

def test_the_owner_subscribes_and_gets_the_files_state(http, gateway) -> None:
    file = new_file(http)
    connect(http, "c-own")
    say(http, "c-own", {"action": "subscribe", "file_id": file["id"]})
    reply = gateway.last("c-own")
    assert reply == {"type": "subscribed", "file_id": file["id"], "status": "pending", "sequence": 1,
                     "at": reply["at"]}  # no key yet: no refer
    assert store.subscribers(f"file:{file['id']}") == ["c-own"]


def test_a_stranger_cannot_subscribe_to_someone_elses_file_but_an_admin_can(http, gateway) -> None:
    file = new_file(http)
    connect(http, "c-stranger", sub="mallory")
    say(http, "c-stranger", {"action": "subscribe", "file_id": file["id"]})
    assert gateway.last("c-stranger") == {"type": "error", "code": "not_found", "message": "no such file",
                                          "file_id": file["id"]}
    connect(http, "c-nobody", sub="mallory")
    say(http, "c-nobody", {"action": "subscribe", "file_id": "0" * 32})  # no such file: the same answer
    assert gateway.last("c-nobody")["code"] == "not_found"
    connect(http, "c-admin", role="admin")
    say(http, "c-admin", {"action": "subscribe", "file_id": file["id"]})
    assert gateway.last("c-admin")["type"] == "subscribed"
    assert store.subscribers(f"file:{file['id']}") == ["c-admin"]


@pytest.mark.parametrize("body", ["", "not json", "[]", json.dumps({"action": "dance"}),
                                  json.dumps({"action": "subscribe"}),
                                  json.dumps({"action": "subscribe", "file_id": 5}),
                                  json.dumps({"action": "subscribe", "file_id": "a", "task_id": "b"}),
                                  json.dumps({"action": "ping", "pad": "x" * 5000})])
def test_malformed_messages_get_a_bad_request_answer(http, gateway, body) -> None:
    connect(http, "c-bad")
    say(http, "c-bad", body)
    assert gateway.last("c-bad")["type"] == "error" and gateway.last("c-bad")["code"] == "bad_request"


def test_a_subscription_with_a_path_or_odd_id_is_not_found(http, gateway) -> None:
    connect(http, "c-odd")
    for odd in ["../x", "A" * 32, "x" * 5000, ""]:
        say(http, "c-odd", {"action": "subscribe", "file_id": odd})
        assert gateway.last("c-odd")["code"] in ("not_found", "bad_request")
    assert all(len(json.dumps(m)) < 200 for m in gateway.sent["c-odd"])  # ids are not echoed at length


@pytest.mark.parametrize("body", ["[" * 3000,
                                  '{"action": "subscribe", "file_id": "\\ud800"}',
                                  '{"action": "unsubscribe", "task_id": "\\udfff' + "b" * 31 + '"}',
                                  json.dumps({"action": "unsubscribe", "file_id": "x" * 3000}),
                                  json.dumps({"action": "unsubscribe", "task_id": ""})])
def test_hostile_messages_get_an_answer_and_touch_no_storage(http, gateway, body) -> None:
    """Nesting past the JSON parser's depth, a lone surrogate (valid JSON, not UTF-8) and keys
    DynamoDB refuses (over 2 KB, empty) are answered, never a handler crash (API Gateway would
    show the client an internal error); an unsubscribe of what cannot be an id writes nothing."""
    connect(http, "c-hostile")
    say(http, "c-hostile", body)
    reply = gateway.last("c-hostile")
    assert reply["type"] == "error" and reply["code"] in ("bad_request", "not_found")
    assert len(json.dumps(reply)) < 200
    row = store.connection("c-hostile")
    assert row is not None and not row.topics


def test_task_subscriptions_follow_the_pluggable_authorizer(http, gateway, monkeypatch) -> None:
    connect(http, "c-task", sub="bob")
    task = "b" * 32
    say(http, "c-task", {"action": "subscribe", "task_id": task})
    assert gateway.last("c-task")["code"] == "not_found"  # no such task
    monkeypatch.setitem(topics.AUTHORIZERS, "task", lambda principal, ident: principal.sub == "bob")
    say(http, "c-task", {"action": "subscribe", "task_id": task})
    assert gateway.last("c-task") == {"type": "subscribed", "task_id": task}
    assert push.publish(f"task:{task}", {"type": "progress", "task_id": task, "done": 1, "total": 2}) == 1
    assert gateway.last("c-task")["type"] == "progress"
    say(http, "c-task", {"action": "unsubscribe", "task_id": task})
    assert gateway.last("c-task") == {"type": "unsubscribed", "task_id": task}
    assert push.publish(f"task:{task}", {"type": "log", "line": "x"}) == 0


def test_subscriptions_per_connection_are_bounded(http, gateway, aws, monkeypatch) -> None:
    monkeypatch.setattr(aws, "settings", dataclasses.replace(aws.settings, ws_max_subscriptions=3))
    files = [new_file(http) for _ in range(4)]
    connect(http, "c-many")
    for file in files[:3]:
        say(http, "c-many", {"action": "subscribe", "file_id": file["id"]})
        assert gateway.last("c-many")["type"] == "subscribed"
    say(http, "c-many", {"action": "subscribe", "file_id": files[0]["id"]})  # again: no new place taken
    assert gateway.last("c-many")["type"] == "subscribed"
    say(http, "c-many", {"action": "subscribe", "file_id": files[3]["id"]})
    assert gateway.last("c-many")["code"] == "too_many_subscriptions"
    say(http, "c-many", {"action": "unsubscribe", "file_id": files[0]["id"]})
    say(http, "c-many", {"action": "subscribe", "file_id": files[3]["id"]})
    assert gateway.last("c-many")["type"] == "subscribed"
    assert store.connection("c-many").topics == {f"file:{f['id']}" for f in files[1:]}


def test_disconnect_removes_the_connection_and_its_subscriptions(http, gateway) -> None:
    file = new_file(http)
    connect(http, "c-bye")
    say(http, "c-bye", {"action": "subscribe", "file_id": file["id"]})
    response = http.lambda_.invoke("ws_disconnect", ws_event("$disconnect", "c-bye"))
    assert response.payload == {"statusCode": 200}
    assert store.connection("c-bye") is None and store.subscribers(f"file:{file['id']}") == []
    assert list(SubscriptionRow.query(topic_pk(f"file:{file['id']}"))) == []
    http.lambda_.invoke("ws_disconnect", ws_event("$disconnect", "c-bye"))  # a repeat is harmless


# ---------------------------------------------------------------- pushes from the stream

def test_upload_pushes_status_then_refer_issue_with_its_url_in_sequence(http, aws, gateway) -> None:
    file = new_file(http)
    connect(http, "c-watch")
    connect(http, "c-other")
    say(http, "c-watch", {"action": "subscribe", "file_id": file["id"]})
    stored_file_id = file["id"]
    body = b"0123456789"  # the declared size
    before = image(stored_file_id)
    aws.client("s3").put_object(Bucket=aws.settings.media_bucket, Key=f"uploads/{stored_file_id}", Body=body)
    event = http.events.generate_sqs_event(message_bodies=[json.dumps(http.events.generate_s3_event(
        bucket=aws.settings.media_bucket, key=f"uploads/{stored_file_id}"))], queue_name=aws.settings.uploads_queue)
    http.lambda_.invoke("on_upload_stored", event)
    after = image(stored_file_id)
    http.lambda_.invoke("on_file_change", stream_event((before, after)))
    status, issued = gateway.sent["c-watch"][-2:]
    assert status == {"type": "status", "file_id": stored_file_id, "status": "processing", "sequence": 2,
                      "at": after["status_at"]["S"]}
    current = refer(http, stored_file_id)
    assert issued == {"type": "refer", "file_id": stored_file_id, "event": "issued",
                      "url": f"{BASE}/download/{current['key']}", "expires_at": current["expires_at"],
                      "sequence": 3}
    assert int(after["sequence"]["N"]) == 3 and gateway.sent["c-other"] == []  # not subscribed: nothing


def test_every_rotation_freeze_and_expiry_is_pushed(http, aws, gateway, clock: SettableClock) -> None:
    file = stored_file(http, aws)
    connect(http, "c-keys")
    say(http, "c-keys", {"action": "subscribe", "file_id": file["id"]})
    first = refer(http, file["id"])
    assert gateway.last("c-keys")["refer"] == {"state": "active", "url": f"{BASE}/download/{first['key']}",
                                               "expires_at": first["expires_at"]}
    issued_at = FileRow.get(file["id"]).refer_issued_at
    before = image(file["id"])
    clock.set(issued_at + 90)
    from chalicelib.refer import service

    assert service.on_timer([json.dumps({"file_id": file["id"], "issue": 1, "due": issued_at + 90})]) == {
        file["id"]: "rotated"}
    after = image(file["id"])
    http.lambda_.invoke("on_file_change", stream_event((before, after)))
    rotated = gateway.last("c-keys")
    key = refer(http, file["id"])["key"]
    assert rotated == {"type": "refer", "file_id": file["id"], "event": "rotated",
                       "url": f"{BASE}/download/{key}", "expires_at": iso(issued_at + 180),
                       "sequence": int(before["sequence"]["N"]) + 1}
    assert download(http, key).status_code == 302  # the pushed URL's key works: it freezes
    frozen_image = image(file["id"])
    http.lambda_.invoke("on_file_change", stream_event((after, frozen_image)))
    frozen = gateway.last("c-keys")
    assert (frozen["event"], frozen["url"], frozen["sequence"]) == ("frozen", rotated["url"], rotated["sequence"] + 1)
    assert frozen["expires_at"] == iso(clock.now() + aws.settings.refer_download_window)
    clock.advance(aws.settings.refer_download_window)
    assert service.on_timer([json.dumps({"file_id": file["id"], "issue": 1,
                                         "due": FileRow.get(file["id"]).refer_due_at})])[file["id"]] == "expired"
    http.lambda_.invoke("on_file_change", stream_event((frozen_image, image(file["id"]))))
    expired = gateway.last("c-keys")
    assert (expired["event"], expired["url"], expired["sequence"]) == ("expired", None, frozen["sequence"] + 1)


def test_a_write_that_bumps_no_sequence_and_a_new_row_push_nothing(http, gateway) -> None:
    file = new_file(http)
    connect(http, "c-quiet")
    say(http, "c-quiet", {"action": "subscribe", "file_id": file["id"]})
    before = image(file["id"])
    FileRow.get(file["id"]).update(actions=[FileRow.completed.set(True)])
    http.lambda_.invoke("on_file_change", stream_event((before, image(file["id"])), (None, before)))
    assert [m["type"] for m in gateway.sent["c-quiet"]] == ["subscribed"]


def test_a_gone_connection_is_pruned_and_the_others_still_get_the_message(http, gateway) -> None:
    file = new_file(http)
    for cid in ("c-live", "c-gone"):
        connect(http, cid)
        say(http, cid, {"action": "subscribe", "file_id": file["id"]})
    gateway.gone.add("c-gone")
    message = {"type": "status", "file_id": file["id"], "status": "processing", "sequence": 2, "at": "x"}
    assert push.publish(f"file:{file['id']}", message) == 1
    assert gateway.last("c-live") == message
    assert store.subscribers(f"file:{file['id']}") == ["c-live"]
    assert store.connection("c-gone") is None
    with pytest.raises(ConnectionRow.DoesNotExist):
        ConnectionRow.get(connection_pk("c-gone"), "conn")


def test_an_orphan_subscription_is_dropped_on_its_first_gone(http, gateway) -> None:
    """The connection's row already gone (TTL took it first): its subscription row still goes."""
    file = new_file(http)
    connect(http, "c-orphan")
    say(http, "c-orphan", {"action": "subscribe", "file_id": file["id"]})
    ConnectionRow.get(connection_pk("c-orphan"), "conn").delete()
    gateway.gone.add("c-orphan")
    assert push.publish(f"file:{file['id']}", {"type": "status"}) == 0
    assert list(SubscriptionRow.query(topic_pk(f"file:{file['id']}"))) == []


def test_an_error_status_carries_its_reason_and_worst_case_messages_fit_a_frame(http, gateway) -> None:
    file = new_file(http)
    row = FileRow.get(file["id"])
    before = row.serialize()
    row.error, row.status, row.sequence = "é\"\\\x00𝄞" * 5000, "error", 2
    assert len(row.error.encode()) > messages.MAX_MESSAGE_BYTES  # longer than a frame itself
    (status,) = messages.file_messages(before, row.serialize(), BASE)
    assert status["status"] == "error" and 0 < len(status["error"]) <= 1000
    assert len(messages.encode(status)) < messages.MAX_MESSAGE_BYTES
    long_base = "https://" + "a" * 2000 + ".example.com/api"
    row.refer_issue, row.refer_issued_at, row.refer_event, row.refer_window = 1, 1_790_000_000.0, "issued", 0
    row.sequence = 3
    refer_message = messages.file_messages(before, row.serialize(), long_base)[-1]
    assert refer_message["url"].startswith(long_base) and len(messages.encode(refer_message)) < 4096
    with pytest.raises(messages.MessageTooLarge):
        push.publish(f"file:{file['id']}", {"type": "log", "line": "x" * messages.MAX_MESSAGE_BYTES})


def test_a_bulk_task_owner_watches_its_log_lines_live_and_a_stranger_cannot(http, gateway) -> None:
    """The wiring of app.py: the bulk authorizer admits the task's owner, and every stored log line
    is pushed to the task's subscribers as a {"type": "log"} message."""
    from chalicelib.bulk import logs

    item = {"filename": "a.txt", "size": 3, "content_type": "text/plain", "kind": "screenplay", "account": "acme"}
    made = http.http.post("/bulk-uploads", headers=auth("uploader", "bulk-live"),
                          body=json.dumps({"name": "Live task", "items": [item]}))
    assert made.status_code == 201, made.body
    task = json.loads(made.body)["id"]
    connect(http, "c-stranger", sub="someone-else")
    say(http, "c-stranger", {"action": "subscribe", "task_id": task})
    assert gateway.last("c-stranger")["code"] == "not_found"
    connect(http, "c-owner", sub="bulk-live")
    say(http, "c-owner", {"action": "subscribe", "task_id": task})
    assert gateway.last("c-owner") == {"type": "subscribed", "task_id": task}
    logs.append(task, logs.Line(account="acme", level="error", message="sha256 differs"))
    pushed = gateway.last("c-owner")
    assert (pushed["type"], pushed["task_id"], pushed["level"], pushed["message"]) == (
        "log", task, "error", "sha256 differs")

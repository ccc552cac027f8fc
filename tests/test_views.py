"""Views count exactly: under concurrent load, across redeliveries and failed batches."""
from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from chalicelib.db import dynamodb
from chalicelib.pages import cache, views
from chalicelib.provider import client, current, settings
from infra.emulators import LambdaContext
from tests.helpers import Api, count_dynamodb_calls, drain, views_of


def _sqs_event(bodies: list[str]) -> dict:
    return {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:kadr-dev-views",
                         "awsRegion": "us-east-1"} for body in bodies]}


def _body(page: dict, view_id: str | None = None) -> str:
    return json.dumps({"view_id": view_id or uuid.uuid4().hex, "page_id": page["id"],
                       "items": [i["id"] for i in page["items"]]})


def test_1000_views_from_50_clients_count_exactly(api: Api, stack, page: dict) -> None:
    drain(stack)
    before = views_of(api, page["id"])
    url = f"{api.base}/pages/{page['id']}"
    local = threading.local()

    def read(_: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session.get(url, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(read, range(1000)))
    assert statuses.count(200) == 1000
    drain(stack)
    after = views_of(api, page["id"])
    assert {item: after[item] - before[item] for item in after} == {i["id"]: 1000 for i in page["items"]}


def test_a_redelivered_batch_does_not_count_twice(api: Api, stack, page: dict) -> None:
    event = _sqs_event([_body(page) for _ in range(5)])
    handler = stack.app.handler_map["count_views"]
    before = views_of(api, page["id"])
    handler(event, LambdaContext("count_views"))
    handler(event, LambdaContext("count_views"))
    after = views_of(api, page["id"])
    assert all(after[i] - before[i] == 5 for i in after)


def test_the_same_view_sent_twice_through_sqs_counts_once(api: Api, stack, page: dict) -> None:
    drain(stack)
    before = views_of(api, page["id"])
    body = _body(page)
    sqs = client("sqs")
    for _ in range(3):
        sqs.send_message(QueueUrl=current().queue_url(settings().views_queue), MessageBody=body)
    drain(stack)
    after = views_of(api, page["id"])
    assert all(after[i] - before[i] == 1 for i in after)


def test_a_failed_batch_is_retried_not_lost(api: Api, stack, page: dict) -> None:
    drain(stack)
    pump = stack.component("sqs:count_views")
    failures_before = pump.failures
    before = views_of(api, page["id"])
    failed = threading.Event()

    def fail_once(**_: object) -> None:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("injected DynamoDB outage")

    ddb = dynamodb()
    ddb.meta.events.register("before-call.dynamodb.TransactWriteItems", fail_once)
    try:
        for _ in range(20):
            assert api.get(f"/pages/{page['id']}").status_code == 200
        drain(stack)
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.TransactWriteItems", fail_once)
    assert failed.is_set() and pump.failures > failures_before
    after = views_of(api, page["id"])
    assert all(after[i] - before[i] == 20 for i in after)


def test_views_of_a_deleted_item_are_dropped_and_the_rest_counted(api: Api, page: dict) -> None:
    gone = page["items"][0]["id"]
    body = _body(page)
    assert api.delete(f"/pages/{page['id']}/items/{gone}").status_code == 204
    before = views_of(api, page["id"])
    applied = views.apply([body])
    after = views_of(api, page["id"])
    assert gone not in after and all(after[i] - before[i] == 1 for i in after)
    assert applied.views == 1 and len(applied.gone_items) == 1


def test_malformed_messages_are_dropped_without_blocking_the_batch(api: Api, page: dict) -> None:
    before = views_of(api, page["id"])
    applied = views.apply(["not json", json.dumps({"view_id": "x"}), _body(page)])
    assert applied.malformed == 2 and applied.views == 1
    after = views_of(api, page["id"])
    assert all(after[i] - before[i] == 1 for i in after)


def test_a_large_batch_is_split_into_transactions_within_limits(api: Api, page: dict) -> None:
    before = views_of(api, page["id"])
    applied = views.apply([_body(page) for _ in range(250)])
    after = views_of(api, page["id"])
    assert all(after[i] - before[i] == 250 for i in after)
    assert applied.transactions == 3  # 97 receipts + 3 counters fit in one 100-action transaction
    assert applied.counter_writes == 9


def test_cached_reads_skip_dynamodb_but_still_count(api: Api, stack, page: dict) -> None:
    drain(stack)
    cache.forget(page["id"])
    before = views_of(api, page["id"])
    started = time.monotonic()
    with count_dynamodb_calls(settings().pages_table) as calls:
        for _ in range(20):
            assert api.get(f"/pages/{page['id']}").status_code == 200
    windows = 1 + int((time.monotonic() - started) / settings().page_cache_ttl)
    # One Query fills the cache, then none until its TTL (1 s in tests) runs out.
    assert 1 <= calls["Query"] <= min(windows, 19)
    drain(stack)
    after = views_of(api, page["id"])
    assert all(after[i] - before[i] == 20 for i in after)


def test_an_edit_is_visible_within_the_cache_ttl(api: Api, page: dict) -> None:
    assert api.get(f"/pages/{page['id']}").json()["title"] == "Fixture page"
    # Another container (here: the store, bypassing this container's cache) renames the page.
    from chalicelib.pages.models import PageRow, page_pk, title_sort_key

    PageRow(page_pk(page["id"]), "META").update(actions=[PageRow.title.set("Renamed elsewhere"),
                                                         PageRow.title_key.set(title_sort_key("Renamed elsewhere"))])
    assert api.get(f"/pages/{page['id']}").json()["title"] == "Fixture page"  # still cached
    time.sleep(settings().page_cache_ttl + 0.2)
    assert api.get(f"/pages/{page['id']}").json()["title"] == "Renamed elsewhere"

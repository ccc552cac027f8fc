"""infra/moto_patches.py: transactions still roll back, and moto no longer keeps every copy it makes."""
from __future__ import annotations

import gc
import uuid

import pytest
from botocore.exceptions import ClientError

from chalicelib.db import dynamodb


@pytest.fixture(scope="module")
def table(stack) -> str:
    """A scratch table with a stream, like the files table."""
    name = f"patch-test-{uuid.uuid4().hex[:8]}"
    ddb = dynamodb()
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield name
    ddb.delete_table(TableName=name)


def _key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


def _get(table: str, pk: str) -> dict | None:
    return dynamodb().get_item(TableName=table, Key=_key(pk), ConsistentRead=True).get("Item")


def _stream_records(table: str) -> int:
    from moto.dynamodb.models import dynamodb_backends

    return len(dynamodb_backends["123456789012"]["us-east-1"].get_table(table).stream_shard.items)


def test_a_failed_condition_rolls_back_every_action_and_its_stream_records(table: str) -> None:
    ddb = dynamodb()
    ddb.put_item(TableName=table, Item={**_key("kept"), "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={**_key("doomed"), "v": {"S": "before"}})
    records = _stream_records(table)
    new = uuid.uuid4().hex
    with pytest.raises(ClientError) as failed:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {**_key(new), "v": {"S": "new"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": table, "Key": _key("kept"), "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": table, "Key": _key("doomed")}},
            {"ConditionCheck": {"TableName": table, "Key": _key("absent"),
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    error = failed.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _get(table, new) is None
    assert _get(table, "kept")["n"] == {"N": "1"}
    assert _get(table, "doomed")["v"] == {"S": "before"}
    assert _stream_records(table) == records  # the cancelled writes left no stream records


def test_a_validation_error_mid_transaction_rolls_back_what_came_before(table: str) -> None:
    ddb = dynamodb()
    new = uuid.uuid4().hex
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {**_key(new), "v": {"S": "a"}}}},
            {"Put": {"TableName": table, "Item": {**_key(new), "v": {"S": "b"}}}},  # same item twice
        ])
    assert _get(table, new) is None


def test_a_successful_transaction_applies_everything(table: str) -> None:
    ddb = dynamodb()
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {**_key(a), "v": {"S": "a"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": _key(b), "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    assert _get(table, a)["v"] == {"S": "a"} and _get(table, b)["n"] == {"N": "1"}


def test_transactions_do_not_leave_copies_of_the_table_behind(table: str) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    ddb = dynamodb()
    for start in range(0, 300, 25):  # a table of 300 items
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {**_key(f"fill-{i}"), "pad": {"S": "p" * 100}}}}
            for i in range(start, start + 25)]})
    gc.collect()
    live_before = len(Item.instances_tracked)
    for _ in range(30):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {**_key(uuid.uuid4().hex)},
                     "ConditionExpression": "attribute_not_exists(pk)"}}])
    gc.collect()
    # moto as shipped deep-copied the whole table per transaction and kept every copy (~9,000
    # Items here); now only the 30 new items (plus whatever other tests hold) stay alive.
    assert len(Item.instances_tracked) - live_before < 300


def test_sqs_counts_visibility_and_retention_still_hold(stack) -> None:
    from chalicelib.provider import client

    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"patch-test-{uuid.uuid4().hex[:8]}",
                           Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    try:
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=str(i))
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=30)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=30)["Messages"]
        assert len(got) == 2
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed", "MessageRetentionPeriod"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        assert attrs == {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "2",
                         "ApproximateNumberOfMessagesDelayed": "1", "MessageRetentionPeriod": "60"}
        assert "QueueArn" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(rest) == 3 and "later" not in {m["Body"] for m in rest}  # delayed stays hidden
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])  # again: still fine
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_a_table_query_reads_its_partition_in_order_with_paging(table: str) -> None:
    ddb = dynamodb()
    pk = f"part-{uuid.uuid4().hex}"
    for sk in ["b", "a", "c", "ab", "d"]:
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    ddb.put_item(TableName=table, Item={"pk": {"S": pk + "-other"}, "sk": {"S": "a"}})

    def keys(**kw: object) -> tuple[list[str], dict | None]:
        out = ddb.query(TableName=table, KeyConditionExpression=kw.pop("cond", "pk = :p"),
                        ExpressionAttributeValues={":p": {"S": pk}, **kw.pop("values", {})}, **kw)
        return [i["sk"]["S"] for i in out["Items"]], out.get("LastEvaluatedKey")

    assert keys()[0] == ["a", "ab", "b", "c", "d"]
    assert keys(ScanIndexForward=False)[0] == ["d", "c", "b", "ab", "a"]
    first, last = keys(Limit=2)
    assert first == ["a", "ab"] and last is not None
    assert keys(ExclusiveStartKey=last)[0] == ["b", "c", "d"]
    assert keys(cond="pk = :p AND begins_with(sk, :a)", values={":a": {"S": "a"}})[0] == ["a", "ab"]
    missing = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "no-such-partition"}})
    assert missing["Items"] == [] and missing["Count"] == 0

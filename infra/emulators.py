"""Local stand-ins for the AWS pieces that invoke the app: each feeds the app's own handlers the
event shapes AWS would, so no handler has a local-only path.

Every component has ``start()`` and ``stop()``; the stack starts them in order and stops them in
reverse. A new emulator (WebSocket gateway, DynamoDB Streams pump) is one more component.
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

log = logging.getLogger("kadr.local")


# A refer key is 51 base64url characters; anything that long in a request line is treated as one,
# wherever it stands (/download//KEY, /Download/KEY, ..%2FKEY, a query string).
_KEY_LIKE = re.compile(r"[A-Za-z0-9_-]{51,}")


def redact_path(text: str) -> str:
    """Replace refer keys in request lines by a fingerprint (as the app's own logs do)."""
    from chalicelib.refer.keys import fingerprint

    return _KEY_LIKE.sub(lambda m: f"<key:{fingerprint(m.group(0))}>", text)


class Component:
    name = "component"

    def start(self) -> None:
        raise NotImplementedError

    def request_stop(self) -> None:
        """Tell background threads to finish, without waiting (the stack calls it on every component
        before stopping any, so they all wind down at once)."""

    def stop(self) -> None:
        raise NotImplementedError


class MotoServer(Component):
    """moto server on loopback: S3, DynamoDB, DynamoDB Streams and SQS.

    Applies infra/moto_patches.py first (moto kept every model instance and copied whole tables
    per transaction: unbounded memory; see that module).
    """

    name = "moto"

    def __init__(self, host: str, port: int) -> None:
        from moto.server import ThreadedMotoServer

        from infra import moto_patches

        moto_patches.apply()

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
        self.url = f"http://{host}:{port}"
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        # ThreadedMotoServer.stop() neither closes the listening socket nor bounds its join.
        server = self._server._server
        if server is not None:
            server.shutdown()
            server.server_close()
        thread = self._server._thread
        if thread is not None:
            thread.join(timeout=2)


class ApiServer(Component):
    """Chalice's local gateway serving the app's routes (threaded, like concurrent Lambdas)."""

    name = "api"

    def __init__(self, app: Any, project_dir: str, stage: str, host: str, port: int) -> None:
        import json
        from pathlib import Path

        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, create_local_server

        disk = json.loads((Path(project_dir) / ".chalice" / "config.json").read_text())
        config = Config.create(chalice_stage=stage, app_name=disk["app_name"], project_dir=project_dir,
                               config_from_disk=disk)
        self.url = f"http://{host}:{port}"
        self._server = create_local_server(app, config, host, port)

        from infra.gateway_errors import JsonErrors

        class NoDelayHandler(JsonErrors, ChaliceRequestHandler):
            # The handler sends headers and body separately; with Nagle on, each response then
            # waits ~40 ms for the client's delayed ACK, which API Gateway never adds.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                # Access lines name the request path, and a refer key in a path is a credential.
                super().log_message(format, *(redact_path(a) if isinstance(a, str) else a for a in args))

        self._server.server.RequestHandlerClass = functools.partial(NoDelayHandler, app_object=app, config=config)
        self._server.server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.server.serve_forever, name="api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server.server_close()
        self._thread.join(timeout=2)


class LambdaContext:
    """The attributes handlers and Powertools read from Lambda's context object."""

    def __init__(self, function_name: str, timeout_s: int = 60) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = uuid.uuid4().hex
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class SqsPump(Component):
    """Polls one queue like Lambda's event source mapping and invokes the handler with SQS events.

    Batches follow the handler's ``batch_size`` and ``maximum_batching_window_in_seconds``. A batch
    whose handler raises is not deleted: it comes back after ``retry_delay`` seconds (Lambda waits
    for the queue's visibility timeout; the local pump shortens that to keep feedback quick).
    """

    def __init__(self, app: Any, source: Any, sqs: Any, region: str, workers: int = 2,
                 retry_delay: int = 1) -> None:
        self.name = f"sqs:{source.name}"
        self._handler: Callable[..., Any] = app.handler_map[source.name]
        self._source = source
        self._sqs = sqs
        self._region = region
        self._retry_delay = retry_delay
        self._url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        self._arn = sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"{self.name}-{i}", daemon=True)
                         for i in range(workers)]
        self.batches = 0
        self.failures = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 2) -> None:
        """Threads finish their batch (an unfinished one is redelivered by SQS, and counted once)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0, deadline - time.monotonic()))

    def _receive(self) -> list[dict[str, Any]]:
        """Like Lambda: a batch closes when full or when the batching window, opened by its first
        message, runs out. Returns [] after a second with no message, so stop() is noticed."""
        size = self._source.batch_size
        window = self._source.maximum_batching_window_in_seconds
        messages: list[dict[str, Any]] = []
        deadline: float | None = None
        while len(messages) < size and not self._stop.is_set():
            remaining = 1.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(1, int(remaining))
            got = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=min(10, size - len(messages)), WaitTimeSeconds=wait,
                AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if got:
                messages += got
                deadline = deadline or time.monotonic() + window
            elif deadline is None:
                break
            elif wait == 0:
                self._stop.wait(min(0.1, remaining))
        return messages

    def _event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": self._arn,
            "awsRegion": self._region} for m in messages]}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive()
            except Exception:  # noqa: BLE001 - the emulator keeps polling through moto restarts
                log.exception("%s: receive failed", self.name)
                self._stop.wait(1)
                continue
            if messages:
                self._dispatch(messages)

    def _dispatch(self, messages: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        try:
            self._handler(self._event(messages), LambdaContext(self._source.name))
        except Exception:  # noqa: BLE001 - like Lambda: the whole batch goes back to the queue
            self.failures += 1
            log.exception("%s: batch of %d failed; it will be retried", self.name, len(messages))
            for start in range(0, len(entries), 10):
                self._sqs.change_message_visibility_batch(QueueUrl=self._url, Entries=[
                    {**e, "VisibilityTimeout": self._retry_delay} for e in entries[start:start + 10]])
            return
        self.batches += 1
        for start in range(0, len(entries), 10):
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries[start:start + 10])


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: Any) -> int | None:
    """Seconds between runs of a ``rate(...)`` schedule; None for cron expressions."""
    text = expression if isinstance(expression, str) else expression.to_string()
    match = _RATE.match(text)
    if not match:
        return None
    return int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")]


class Scheduler(Component):
    """Invokes ``@app.schedule`` handlers at their rates with EventBridge's scheduled-event shape."""

    name = "scheduler"

    def __init__(self, app: Any, region: str) -> None:
        from chalice.app import ScheduledEventConfig

        self._app = app
        self._region = region
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self.jobs: dict[str, int] = {}
        for source in app.event_sources:
            if isinstance(source, ScheduledEventConfig):
                seconds = rate_seconds(source.schedule_expression)
                if seconds is None:
                    log.warning("scheduler: %s uses a cron expression, which runs only in AWS", source.name)
                else:
                    self.jobs[source.name] = seconds
        self._next = {name: time.monotonic() + seconds for name, seconds in self.jobs.items()}
        self.runs: dict[str, int] = {name: 0 for name in self.jobs}

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def invoke(self, name: str) -> None:
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "123456789012",
                 "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": self._region,
                 "resources": [f"arn:aws:events:{self._region}:123456789012:rule/{name}"], "detail": {}}
        try:
            self._app.handler_map[name](event, LambdaContext(name))
            self.runs[name] += 1
        except Exception:  # noqa: BLE001 - a failing job must not stop the others
            log.exception("scheduler: %s failed", name)

    def run_due(self, now: float) -> list[str]:
        due = [name for name, at in self._next.items() if at <= now]
        for name in due:
            self._next[name] = now + self.jobs[name]
            self.invoke(name)
        return due

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.run_due(time.monotonic())


class StreamPump(Component):
    """Reads one DynamoDB stream like Lambda's event source mapping and invokes an
    ``@app.on_dynamodb_record`` handler with AWS's event shape.

    moto's records differ from what Lambda delivers (moto 5.2.5, boto3 1.44.5): no
    ``eventSourceARN``, and ``ApproximateCreationDateTime`` is a datetime where Lambda's event has
    epoch seconds (Chalice's ``DynamoDBRecord`` then raises ``TypeError``); each is fixed here.
    One iterator per shard, resumed after the last sequence number handed over, rebuilt when it
    expires. A batch whose handler raises is retried until it succeeds, and nothing after it in
    that shard is read meanwhile (Lambda blocks the shard the same way), so order holds.
    """

    def __init__(self, app: Any, source: Any, streams: Any, dynamodb: Any, region: str,
                 poll_interval: float = 0.05, retry_delay: float = 1.0) -> None:
        self.name = f"stream:{source.name}"
        self._handler: Callable[..., Any] = app.handler_map[source.name]
        self._source = source
        self._streams = streams
        self._region = region
        self._poll = poll_interval
        self._retry_delay = retry_delay
        self.stream_arn = self._resolve(source.stream_arn, streams, dynamodb)
        self._iterators: dict[str, str | None] = {}
        self._after: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.batches = 0
        self.records = 0
        self.failures = 0
        self.expired_iterators = 0
        # Like Lambda's mapping created now: LATEST reads what is written from here on.
        for shard in self._shards():
            self._iterators[shard] = self._iterator(shard, self._source.starting_position)

    @staticmethod
    def _resolve(arn: str, streams: Any, dynamodb: Any) -> str:
        """The configured stream, or (a placeholder or an older stream's ARN) the table's current one."""
        try:
            streams.describe_stream(StreamArn=arn)
            return arn
        except Exception:  # noqa: BLE001 - fall back to the table named in the ARN
            table = arn.split(":", 5)[5].split("/")[1]
            return dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _shards(self) -> list[str]:
        described = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [s["ShardId"] for s in described["Shards"]]

    def _iterator(self, shard: str, position: str) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard}
        if shard in self._after:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._after[shard])
        else:
            kwargs["ShardIteratorType"] = position
        return self._streams.get_shard_iterator(**kwargs)["ShardIterator"]

    def _event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        fixed = []
        for record in records:
            body = dict(record["dynamodb"])
            created = body.get("ApproximateCreationDateTime")
            if isinstance(created, datetime):
                body["ApproximateCreationDateTime"] = int(created.timestamp())
            fixed.append({**record, "dynamodb": body, "awsRegion": self._region, "eventSourceARN": self.stream_arn})
        return {"Records": fixed}

    def poll_once(self) -> int:
        """One round over the shards: the records handed to the handler (0 when there were none)."""
        handed = 0
        for shard in list(self._iterators):
            iterator = self._iterators[shard] or self._iterator(shard, "TRIM_HORIZON")
            try:
                got = self._streams.get_records(ShardIterator=iterator, Limit=self._source.batch_size)
            except self._streams.exceptions.ExpiredIteratorException:
                self.expired_iterators += 1
                self._iterators[shard] = None  # rebuilt after the last record handed over
                continue
            records = got.get("Records", [])
            if records:
                self._deliver(records)
                self._after[shard] = records[-1]["dynamodb"]["SequenceNumber"]
                handed += len(records)
            if "NextShardIterator" in got:
                self._iterators[shard] = got["NextShardIterator"]
            else:  # a closed shard (AWS splits shards); its children show up in describe_stream
                del self._iterators[shard]
        return handed

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        event = self._event(records)
        while not self._stop.is_set():
            try:
                self._handler(event, LambdaContext(self._source.name))
                self.batches += 1
                self.records += len(records)
                return
            except Exception:  # noqa: BLE001 - like Lambda: the shard waits and the batch is retried
                self.failures += 1
                log.exception("%s: batch of %d failed; retrying it", self.name, len(records))
                self._stop.wait(self._retry_delay)

    def _run(self) -> None:
        rounds = 0
        while not self._stop.is_set():
            try:
                if rounds % 100 == 0:  # new shards (AWS splits them; moto keeps one)
                    for shard in self._shards():
                        self._iterators.setdefault(shard, None if shard in self._after else
                                                   self._iterator(shard, "TRIM_HORIZON"))
                rounds += 1
                if not self.poll_once():
                    self._stop.wait(self._poll)
            except Exception:  # noqa: BLE001 - the emulator keeps polling through moto hiccups
                log.exception("%s: poll failed", self.name)
                self._stop.wait(1)

"""Live-status push latency: from a status write to its receipt by 100 subscribed WebSocket clients.

``python -m bench.push [--clients 100] [--files 20] [--interval 0.25]`` starts the local stack
(moto server, API, WebSocket gateway, DynamoDB Streams pump) in this process and the clients in a
child process (their own interpreter, so they do not share this one's GIL). Every client
subscribes to every file; then each file moves pending → processing → ready → db_ready → error
through ``chalicelib.status.transition``, one move every ``--interval`` seconds. Latency is the
client's receipt time minus the time the write was issued (one machine, one clock): the whole
path of the stack, UpdateItem → stream → pump → ``on_dynamodb_record`` → subscribers' Query →
``post_to_connection`` × N → gateway → client. Results in bench/results/push.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import RESULTS, environment, percentile, start_stack

MOVES = ("processing", "ready", "db_ready", "error")


def clients_main(ws_url: str, token: str, file_ids: list[str], count: int, ready: Any, stop: Any,
                 results: Any) -> None:
    """The child process: ``count`` clients, each subscribed to every file, recording receipts."""
    import aiohttp

    received: list[tuple[int, str, int, float]] = []

    async def client(n: int, session: aiohttp.ClientSession, subscribed: asyncio.Event, done: list[int]) -> None:
        async with session.ws_connect(f"{ws_url}/?token={token}") as ws:
            for file_id in file_ids:
                await ws.send_str(json.dumps({"action": "subscribe", "file_id": file_id}))
                reply = json.loads((await ws.receive(timeout=60)).data)
                assert reply["type"] == "subscribed", reply
            done[0] += 1
            if done[0] == count:
                subscribed.set()
            while True:
                try:
                    message = await ws.receive(timeout=0.5)
                except asyncio.TimeoutError:
                    if stop.is_set():
                        return
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                at = time.time()
                data = json.loads(message.data)
                if data.get("type") == "status":
                    received.append((n, data["file_id"], data["sequence"], at))

    async def main() -> None:
        subscribed = asyncio.Event()
        done = [0]
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks = [asyncio.create_task(client(n, session, subscribed, done)) for n in range(count)]
            await subscribed.wait()
            ready.set()
            await asyncio.gather(*tasks)

    asyncio.run(main())
    results.put(received)


def create_files(count: int, owner: str) -> list[str]:
    from chalicelib.clock import iso
    from chalicelib.ids import new_id
    from chalicelib.uploads.models import FileRow

    stamp = iso(time.time())
    ids = [new_id() for _ in range(count)]
    for file_id in ids:
        FileRow(file_id, owner=owner, filename="bench.txt", size=1, content_type="text/plain", kind="screenplay",
                status="pending", sequence=1, status_at=stamp, object_key=f"uploads/{file_id}", upload_id="u",
                part_size=1, part_count=1, upload_deadline=0, created_at=stamp, updated_at=stamp).save()
    return ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.25)
    args = parser.parse_args(argv)
    stack = start_stack(Path(tempfile.mkdtemp(prefix="kadr-bench-push-")))
    try:
        from chalicelib.status import FileStatus, transition
        from chalicelib.uploads.models import FileRow

        for component in list(stack.components):  # nothing else competes with the pushes
            if component.name.startswith("sqs:") or component.name == "scheduler":
                component.stop()
                stack.components.remove(component)
        file_ids = create_files(args.files, "local-uploader")
        context = multiprocessing.get_context("spawn")
        ready, stop, results = context.Event(), context.Event(), context.Queue()
        child = context.Process(target=clients_main, args=(stack.ws_url, stack.tokens["uploader"], file_ids,
                                                           args.clients, ready, stop, results))
        started = time.perf_counter()
        child.start()
        if not ready.wait(600):
            raise RuntimeError("the clients did not subscribe in time")
        print(f"{args.clients} clients x {args.files} subscriptions in {time.perf_counter() - started:.1f} s",
              flush=True)
        writes: dict[tuple[str, int], float] = {}
        rows = {file_id: FileRow.get(file_id, consistent_read=True) for file_id in file_ids}
        for target in MOVES:
            for file_id, row in rows.items():
                issued = time.time()
                assert transition(row, FileStatus(target))
                writes[(file_id, int(row.sequence))] = issued
                time.sleep(max(0.0, args.interval - (time.time() - issued)))
        time.sleep(3)  # the last pushes arrive
        stop.set()
        received = results.get(timeout=120)
        child.join(timeout=30)
        latencies = [at - writes[(file_id, sequence)] for _, file_id, sequence, at in received
                     if (file_id, sequence) in writes]
        expected = len(writes) * args.clients
        per_write: dict[tuple[str, int], float] = {}
        for _, file_id, sequence, at in received:
            key = (file_id, sequence)
            if key in writes:
                per_write[key] = max(per_write.get(key, 0.0), at - writes[key])
        summary = {
            "clients": args.clients, "files": args.files, "writes": len(writes), "interval_s": args.interval,
            "deliveries": len(latencies), "expected": expected, "missing": expected - len(latencies),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p90_ms": round(percentile(latencies, 90) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
            "last_client_p50_ms": round(percentile(list(per_write.values()), 50) * 1000, 1),
            "last_client_p99_ms": round(percentile(list(per_write.values()), 99) * 1000, 1),
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "push.json").write_text(json.dumps({"environment": environment(), "summary": summary}, indent=2))
        print(json.dumps(summary, indent=2))
        print("\n| clients | writes | deliveries | p50 | p90 | p99 | max | slowest client per write, p50 / p99 |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        s = summary
        print(f"| {s['clients']} | {s['writes']} | {s['deliveries']}/{s['expected']} | {s['p50_ms']} ms "
              f"| {s['p90_ms']} ms | {s['p99_ms']} ms | {s['max_ms']} ms "
              f"| {s['last_client_p50_ms']} / {s['last_client_p99_ms']} ms |")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

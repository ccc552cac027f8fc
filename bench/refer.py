"""Refer-key rotation cost: one round of timers for N active keys among many files.

``python -m bench.refer [--files 100000] [--active 100 1000 10000]`` starts the local stack on
moto server, writes ``--files`` file rows (none of them with a pending key event) and then, for
each N in ``--active``, gives N of them a key with a rotation due, and measures:

- **round**: the N timer messages of one 90 s rotation handled by ``refer.on_timer`` (what the
  SQS-triggered Lambda does), with the settable clock at the due time: DynamoDB and SQS calls,
  seconds;
- **repair**: one run of ``refer.repair_timers`` (the per-minute safety net) with every one of
  the N timers overdue: calls, items read, seconds.

Both read only the N active keys (the timer messages, the sparse ``refer_timers`` index), so the
numbers should follow N and not the number of files. Calls are counted by a before-call hook on
the provider's botocore session. Results in bench/results/refer.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import RESULTS, environment, start_stack


def file_rows(count: int, start_at: float) -> None:
    from chalicelib.clock import iso
    from chalicelib.ids import new_id
    from chalicelib.uploads.models import FileRow

    stamp = iso(start_at)
    with FileRow.batch_write() as batch:
        for _ in range(count):
            batch.save(FileRow(new_id(), owner="bench", filename="f.txt", size=1, content_type="text/plain",
                               kind="screenplay", status="processing", sequence=3, status_at=stamp,
                               object_key="uploads/x", upload_id="u", part_size=1, part_count=1, upload_deadline=0,
                               created_at=stamp, updated_at=stamp, refer_issue=1, refer_issued_at=start_at - 3600,
                               refer_event="expired", refer_window=6))


def activate(count: int, issued_at: float) -> list[str]:
    """``count`` files with a fresh key (issued at ``issued_at``): their first rotation is due."""
    from chalicelib.ids import new_id
    from chalicelib.clock import iso
    from chalicelib.uploads.models import REFER_DUE, FileRow

    stamp = iso(issued_at)
    ids = [new_id() for _ in range(count)]
    with FileRow.batch_write() as batch:
        for file_id in ids:
            batch.save(FileRow(file_id, owner="bench", filename="f.txt", size=1, content_type="text/plain",
                               kind="screenplay", status="processing", sequence=3, status_at=stamp,
                               object_key="uploads/x", upload_id="u", part_size=1, part_count=1, upload_deadline=0,
                               created_at=stamp, updated_at=stamp, refer_issue=1, refer_issued_at=issued_at,
                               refer_event="issued", refer_window=0, refer_timer=REFER_DUE,
                               refer_due_at=issued_at + 90))
    return ids


class CallCounter:
    def __init__(self, session: Any) -> None:
        self.calls: Counter[str] = Counter()
        session.register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def take(self) -> dict[str, int]:
        taken = dict(self.calls)
        self.calls.clear()
        return taken


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--active", type=int, nargs="+", default=[100, 1000, 10_000])
    args = parser.parse_args(argv)
    stack = start_stack(Path(tempfile.mkdtemp(prefix="kadr-bench-refer-")))
    try:
        import dataclasses

        from chalicelib import provider
        from chalicelib.clock import SettableClock
        from chalicelib.refer import service
        from chalicelib.uploads.models import FileRow

        for component in list(stack.components):  # the stack's own pump would race the measurement
            if component.name.startswith("sqs:") or component.name == "scheduler":
                component.stop()
                stack.components.remove(component)
        clock = SettableClock(time.time())
        runtime = provider.Provider(dataclasses.replace(provider.settings()), clock)
        provider.install(runtime)
        counter = CallCounter(runtime.connection.session)
        started = time.perf_counter()
        file_rows(args.files, clock.now())
        print(f"{args.files} file rows in {time.perf_counter() - started:.1f} s", flush=True)
        rounds = []
        for active in args.active:
            issued = clock.now()
            ids = activate(active, issued)
            counter.take()
            clock.set(issued + 90.2)
            bodies = [json.dumps({"file_id": i, "issue": 1, "due": issued + 90}) for i in ids]
            started = time.perf_counter()
            outcome = service.on_timer(bodies)
            round_s = time.perf_counter() - started
            round_calls = counter.take()
            assert Counter(outcome.values()) == {"rotated": active}, Counter(outcome.values())
            clock.set(issued + 180 + 60)  # every next timer overdue: what repair does if all were lost
            started = time.perf_counter()
            repaired = service.repair_timers()
            repair_s = time.perf_counter() - started
            repair_calls = counter.take()
            for file_id in ids:  # retire them, so the next N starts from zero active keys
                FileRow(file_id).update(actions=[FileRow.refer_timer.remove(), FileRow.refer_due_at.remove()])
            counter.take()
            row = {"files": args.files + sum(args.active), "active": active, "round_seconds": round(round_s, 2),
                   "round_calls": round_calls, "round_calls_per_key": round(sum(round_calls.values()) / active, 2),
                   "repair_seconds": round(repair_s, 2), "repair_calls": repair_calls, "repaired": repaired}
            rounds.append(row)
            print(json.dumps(row), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "refer.json").write_text(json.dumps({"environment": environment(), "rounds": rounds}, indent=2))
        print("\n| active keys | files | round: calls (per key) | round s | repair: calls | repair s |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in rounds:
            print(f"| {r['active']} | {r['files']} | {sum(r['round_calls'].values())} ({r['round_calls_per_key']}) "
                  f"| {r['round_seconds']} | {sum(r['repair_calls'].values())} | {r['repair_seconds']} |")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

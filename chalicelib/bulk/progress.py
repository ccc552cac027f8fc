"""Progress derived from the items' files, on every read: it cannot disagree with them.

Pure functions over plain values (no AWS): an item's state from its file's status, counts and
status per account and for the task, the completion percentage, started/completed times, and the
live channel's messages built from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from chalicelib.status import FileStatus, bulk_status

PENDING, SUCCEEDED, FAILED, CANCELLED = "pending", "succeeded", "failed", "cancelled"
MAX_PUSHED_ACCOUNTS = 100  # a progress message lists at most this many accounts (32 KB frames)


@dataclass(frozen=True)
class ItemView:
    """What the derivation needs of an item and its current file."""

    index: int
    account: str
    file_status: str | None  # None: the file row is missing (treated as failed)
    uploaded: bool  # the multipart upload was completed (S3 holds the object)
    settled_at: str | None  # when the file was stored and verified, failed, or the item cancelled
    cancelled: bool


def state(item: ItemView) -> str:
    """succeeded once the file is ``processing`` or later; failed in ``error``; cancelled wins
    over the file's own move to error (a cancel aborts the upload)."""
    if item.cancelled:
        return CANCELLED
    if item.file_status is None or item.file_status == FileStatus.ERROR:
        return FAILED
    return PENDING if item.file_status == FileStatus.PENDING else SUCCEEDED


def _summary(items: list[ItemView]) -> dict[str, Any]:
    counts = {PENDING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0}
    for item in items:
        counts[state(item)] += 1
    total = len(items)
    settled = sorted(i.settled_at for i in items if state(i) != PENDING and i.settled_at)
    started = bool(settled) or any(i.uploaded for i in items)
    status = bulk_status(counts[PENDING], counts[SUCCEEDED], counts[FAILED], counts[CANCELLED], started)
    return {"status": status.value, "total": total, **counts,
            "percent": round(100 * (total - counts[PENDING]) / total, 1) if total else 100.0,
            "started_at": settled[0] if settled else None,
            "completed_at": settled[-1] if settled and not counts[PENDING] else None}


def summarize(items: Iterable[ItemView]) -> dict[str, Any]:
    """The task's summary and one per account (sorted by name)."""
    items = list(items)
    by_account: dict[str, list[ItemView]] = {}
    for item in items:
        by_account.setdefault(item.account, []).append(item)
    return {**_summary(items),
            "accounts": [{"account": name, **_summary(group)} for name, group in sorted(by_account.items())]}


def progress_message(task_id: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The live channel's ``{"type": "progress"}`` message for a task (under 32 KB: at most
    ``MAX_PUSHED_ACCOUNTS`` accounts, the rest counted in ``accounts_omitted``)."""
    keys = ("status", "total", PENDING, SUCCEEDED, FAILED, CANCELLED, "percent", "started_at", "completed_at")
    accounts = list(summary.get("accounts", []))
    return {"type": "progress", "task_id": task_id, **{k: summary.get(k) for k in keys},
            "accounts": [{"account": a["account"], **{k: a.get(k) for k in keys}}
                         for a in accounts[:MAX_PUSHED_ACCOUNTS]],
            "accounts_omitted": max(0, len(accounts) - MAX_PUSHED_ACCOUNTS)}


def log_message(task_id: str, line: Mapping[str, Any]) -> dict[str, Any]:
    """The live channel's ``{"type": "log"}`` message for one stored line (a line's message is at
    most 1,000 characters, so the frame stays far under 32 KB)."""
    return {"type": "log", "task_id": task_id, "seq": line["seq"], "at": line["at"], "account": line["account"],
            "level": line["level"], "message": line["message"], "file_id": line.get("file_id")}

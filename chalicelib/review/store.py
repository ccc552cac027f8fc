"""Findings, comments and the file's rating in storage: write an analyzer's findings, read a
file's findings and comments, and settle the rating (``ready`` → ``db_ready``)."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.clock import iso
from chalicelib.observability import count
from chalicelib.provider import now
from chalicelib.review import rules
from chalicelib.review.models import COMMENT, FINDING, MARK, CommentItem, FindingItem, MarkItem
from chalicelib.status import FileStatus, guarded_update, transition
from chalicelib.uploads.models import FileRow

COMMENT_FIELDS = ("id", "source", "author", "finding_id", "category", "severity", "scene", "text", "created_at")


def finding_dict(item: FindingItem) -> dict[str, Any]:
    return {"id": item.id, "analyzer": item.analyzer, **json.loads(item.data)}


def finding_item(file_id: str, attrs: dict[str, Any]) -> FindingItem:
    data = {k: v for k, v in attrs.items() if k not in ("id", "analyzer")}
    return FindingItem(file_id, FINDING + attrs["id"], id=attrs["id"], analyzer=attrs["analyzer"],
                       data=json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def comment_dict(item: CommentItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in COMMENT_FIELDS}


def findings_of(file_id: str) -> list[dict[str, Any]]:
    return [finding_dict(i) for i in FindingItem.query(file_id, FindingItem.sk.startswith(FINDING),
                                                       consistent_read=True)]


def comments_of(file_id: str) -> list[dict[str, Any]]:
    """Every comment of the file in time order (bounded by ``comments.MAX_COMMENTS``)."""
    return [comment_dict(i) for i in CommentItem.query(file_id, CommentItem.sk.startswith(COMMENT),
                                                       consistent_read=True)]


def mark_of(file_id: str, analyzer: str) -> MarkItem | None:
    try:
        return MarkItem.get(file_id, MARK + analyzer, consistent_read=True)
    except MarkItem.DoesNotExist:
        return None


def write_findings(file_id: str, analyzer: str, items: list[dict[str, Any]], sha256: str, run: int) -> None:
    """Replace this analyzer's findings with ``items``: rows with the same id are rewritten as they
    are, rows it no longer reports are deleted, then the mark records what was written. A crash
    midway leaves the mark behind, so the redelivered message writes everything again."""
    keep = {i["id"] for i in items}
    stale = [i for i in FindingItem.query(file_id, FindingItem.sk.startswith(FINDING), consistent_read=True,
                                          filter_condition=FindingItem.analyzer == analyzer,
                                          attributes_to_get=["file_id", "sk", "id"]) if i.id not in keep]
    with FindingItem.batch_write() as batch:
        for attrs in items:
            batch.save(finding_item(file_id, attrs))
        for item in stale:
            batch.delete(item)
    MarkItem(file_id, MARK + analyzer, sha256=sha256, run=run, findings=len(items), written_at=iso(now())).save()
    count("FindingsWritten", len(items))


def finding_count(file_id: str) -> int:
    """How many findings the file has, from the analyzers' marks (one small row each)."""
    return sum(int(m.findings) for m in MarkItem.query(file_id, MarkItem.sk.startswith(MARK), consistent_read=True))


def ratings(file_id: str) -> tuple[str, str]:
    """(final rating after people's overrides, the analyzers' rating)."""
    findings = findings_of(file_id)
    chosen = rules.overrides(comments_of(file_id))
    final = rules.rating(rules.effective(f, chosen.get(f["id"])) for f in findings)
    return final, rules.rating(findings)


def settle(row: FileRow, run: int | None = None) -> str:
    """Write the file's ratings; the first time, move ``ready`` → ``db_ready`` in the same write.
    Later (another analyzer's result, a re-analysis, a person's override) the ratings change in
    place and the sequence counts the event; nothing moves backwards.

    Optimistic: each write is conditional on the ``rating_version`` read *before* the findings
    were read, so of two settles racing (two analyzers' results at once) the one that read too
    early loses, reads again and writes what both wrote."""
    for _ in range(5):
        version = int(row.rating_version or 0)
        final, ai = ratings(row.file_id)
        same = FileRow.rating_version == version
        if version == 0:
            same |= FileRow.rating_version.does_not_exist()
        actions = [FileRow.rating.set(final), FileRow.ai_rating.set(ai), FileRow.rated_at.set(iso(now())),
                   FileRow.rating_version.set(version + 1)]
        if run is not None and (row.rated_run is None or int(row.rated_run) < run):
            actions.append(FileRow.rated_run.set(run))
        if row.status == FileStatus.PROCESSING:  # a result stored, its move to ready lost in a crash
            transition(row, FileStatus.READY)
        elif row.status == FileStatus.READY:
            if transition(row, FileStatus.DB_READY, actions=actions, condition=same):
                count("FilesRated")
                return FileStatus.DB_READY.value
        elif row.status == FileStatus.DB_READY:
            if (row.rating == final and row.ai_rating == ai
                    and (run is None or (row.rated_run is not None and int(row.rated_run) >= run))):
                return "unchanged"
            if guarded_update(row, [*actions, FileRow.sequence.add(1)],
                              (FileRow.status == FileStatus.DB_READY.value) & same):
                return "rated"
        else:
            return "skipped"
        row.refresh(consistent_read=True)
    raise RuntimeError(f"the rating of {row.file_id} kept changing; the message will be retried")


def finding(file_id: str, finding_id: str) -> dict[str, Any] | None:
    try:
        return finding_dict(FindingItem.get(file_id, FINDING + finding_id, consistent_read=True))
    except FindingItem.DoesNotExist:
        return None


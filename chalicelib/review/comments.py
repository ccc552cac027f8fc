"""Comments on a file's findings (from people, ``user``, and analyzers, ``ai``) and the merged
recommendation. The analyzers' findings are ``ai`` comments too: the listing shows each finding
as one (its id is the finding's), then the posted comments in time order."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import cursor as cursor_codec
from chalicelib.auth import Principal
from chalicelib.clock import iso
from chalicelib.errors import ApiError, NotFound, Unprocessable
from chalicelib.ids import is_id, new_id
from chalicelib.payload import response_cost
from chalicelib.provider import now
from chalicelib.refer import service as refer
from chalicelib.refer.models import ResultRow
from chalicelib.review import rules, store
from chalicelib.review.models import COMMENT, CONCLUSION, FINDING, CommentItem, ConclusionItem, FindingItem
from chalicelib.status import FileStatus, guarded_update
from chalicelib.uploads.models import FileRow

MAX_COMMENTS = 10_000  # per file: bounds every read that merges them
# Of those, analyzers' (any that downloaded the file, 10 a key, more after re-issues): they cannot
# use up the owner's comments, nor weigh down every report read with 9,000 texts of 4,000 characters.
MAX_AI_COMMENTS = 1_000
PHASES = (FINDING, COMMENT)
RECOMMENDATION_BUDGET = 4_000_000  # bytes of Lambda payload for the merged items


class TooManyComments(ApiError):
    status, code = 409, "too_many_comments"


def reader(file_id: str, principal: Principal) -> tuple[FileRow, str]:
    """The file and the caller's source: its owner (or an admin) writes ``user`` comments, an
    analyzer that downloaded it (or posted a result for it) ``ai`` ones. Anyone else: 404."""
    if principal.role != "analyzer":
        from chalicelib.uploads.service import owned

        return owned(file_id, principal), "user"
    if not is_id(file_id):
        raise NotFound("no such file")
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        raise NotFound("no such file") from None
    if principal.sub in (row.refer_downloaders or ()):
        return row, "ai"
    try:
        ResultRow.get(file_id, principal.sub, consistent_read=True)
    except ResultRow.DoesNotExist:
        raise NotFound("no such file") from None
    return row, "ai"


def _as_comment(f: dict[str, Any]) -> dict[str, Any]:
    """A finding as the ``ai`` comment it arrives as."""
    return {"id": f["id"], "source": "ai", "author": f["analyzer"], "finding_id": f["id"], "category": f["category"],
            "severity": f["severity"], "scene": f.get("scene_label") or (str(f["scene"]) if f.get("scene") else None),
            "text": f.get("comment") or f.get("advice") or f.get("excerpt") or f["category_name"],
            "created_at": f["written_at"]}


def post(row: FileRow, principal: Principal, source: str, body: dict[str, Any]) -> dict[str, Any]:
    finding = None
    if body.get("finding_id"):
        finding = store.finding(row.file_id, body["finding_id"])
        if finding is None:
            raise Unprocessable("the file has no finding with this id", {"finding_id": body["finding_id"]},
                                code="no_such_finding")
    limit = MAX_COMMENTS
    actions = [FileRow.comment_count.add(1)]
    room = FileRow.comment_count.does_not_exist() | (FileRow.comment_count < limit)
    if source == "ai":
        actions.append(FileRow.ai_comment_count.add(1))
        room &= FileRow.ai_comment_count.does_not_exist() | (FileRow.ai_comment_count < MAX_AI_COMMENTS)
    if not guarded_update(row, actions, room):
        if source == "ai" and int(row.comment_count or 0) < limit:
            raise TooManyComments(f"analyzers may post at most {MAX_AI_COMMENTS} comments on a file")
        raise TooManyComments(f"a file holds at most {limit} comments")
    stamp = iso(now())
    comment_id = new_id()
    number = int(row.comment_count)  # this comment's place: the update above returned the new count
    item = CommentItem(row.file_id, f"{COMMENT}{number:05d}", id=comment_id, source=source,
                       author=principal.sub, finding_id=body.get("finding_id"),
                       category=body.get("category") or (finding["category"] if finding else None),
                       severity=body.get("severity"),
                       scene=body.get("scene") or (finding.get("scene_label") if finding else None) or None,
                       text=body["text"], created_at=stamp)
    item.save()
    if source == "user" and finding is not None and body.get("severity"):
        row.refresh(consistent_read=True)
        if row.status == FileStatus.DB_READY:
            store.settle(row)  # the person's severity wins: the final rating follows now
    return store.comment_dict(item)


def _start(file_id: str, cursor: str) -> tuple[int, dict[str, Any]]:
    value = cursor_codec.decode(cursor)
    if not (isinstance(value, list) and len(value) == 2 and value[0] in (0, 1) and isinstance(value[1], str)
            and value[1].startswith(PHASES[value[0]]) and len(value[1]) <= 200):
        raise cursor_codec.invalid()
    return value[0], {"file_id": {"S": file_id}, "sk": {"S": value[1]}}


def listing(row: FileRow, limit: int, cursor: str | None, base_url: str) -> dict[str, Any]:
    """Findings (as ``ai`` comments), then posted comments, ``limit`` at a time."""
    phase, start = _start(row.file_id, cursor) if cursor else (0, None)
    results: list[dict[str, Any]] = []
    last: tuple[int, str] | None = None
    more = False
    while phase < len(PHASES):
        model = FindingItem if PHASES[phase] == FINDING else CommentItem
        need = limit - len(results)
        items = list(model.query(row.file_id, model.sk.startswith(PHASES[phase]), consistent_read=True,
                                 limit=need + 1, last_evaluated_key=start))
        more = len(items) > need
        items = items[:need]
        results += [_as_comment(store.finding_dict(i)) if phase == 0 else store.comment_dict(i) for i in items]
        if items:
            last = (phase, items[-1].sk)
        phase, start = phase + 1, None
        if more or len(results) == limit:
            more = more or (phase < len(PHASES) and CommentItem.count(
                row.file_id, CommentItem.sk.startswith(COMMENT), limit=1) > 0)
            break
    total = (FindingItem.count(row.file_id, FindingItem.sk.startswith(FINDING))
             + CommentItem.count(row.file_id, CommentItem.sk.startswith(COMMENT)))
    next_cursor = cursor_codec.encode(list(last)) if more and last else None
    return {"count": total, "next": f"{base_url}/files/{row.file_id}/comments?limit={limit}&cursor={next_cursor}"
            if next_cursor else None, "results": results}


# ---------------------------------------------------------------- recommendation

def conclude(row: FileRow, principal: Principal, text: str) -> None:
    ConclusionItem(row.file_id, CONCLUSION, text=text, author=principal.sub, updated_at=iso(now())).save()


def _conclusion(file_id: str) -> dict[str, Any] | None:
    try:
        item = ConclusionItem.get(file_id, CONCLUSION, consistent_read=True)
    except ConclusionItem.DoesNotExist:
        return None
    return {"text": item.text, "author": item.author, "updated_at": item.updated_at}


def recommendation(row: FileRow) -> dict[str, Any]:
    """One record from the AI's findings and everyone's comments, computed on read: per finding
    that anyone commented on, the AI's severity, the final one (a person's wins) and the
    comments; free comments apart; the file's refer and the owner's conclusion."""
    findings = {f["id"]: f for f in store.findings_of(row.file_id)}
    comments = store.comments_of(row.file_id)
    chosen = rules.overrides(comments)
    effective = [rules.effective(f, chosen.get(fid)) for fid, f in findings.items()]
    on: dict[str, list[dict[str, Any]]] = {}
    free: list[dict[str, Any]] = []
    for c in comments:
        entry = {k: c[k] for k in ("id", "source", "author", "severity", "text", "created_at")}
        if c.get("finding_id") in findings:
            on.setdefault(c["finding_id"], []).append(entry)
        else:
            free.append({**entry, "category": c.get("category"), "scene": c.get("scene")})
    items = []
    for fid, entries in on.items():
        f = rules.effective(findings[fid], chosen.get(fid))
        items.append({"finding_id": fid, "category": f["category"], "category_name": f["category_name"],
                      "scene": f.get("scene"), "scene_label": f.get("scene_label"), "line": f.get("line"),
                      "ai_severity": findings[fid]["severity"], "ai_comment": findings[fid].get("comment") or "",
                      "severity": f["severity"], "age": f.get("age"), "overridden": "overridden_by" in f,
                      "comments": entries})
    items.sort(key=lambda i: (i["scene"] if i["scene"] is not None else 1 << 30, i["line"] or 0))
    kept, truncated = _bounded(items + free, RECOMMENDATION_BUDGET)
    final = rules.rating(effective)
    state = refer.summary(row)
    return {"file_id": row.file_id, "status": row.status,
            "refer": {"issue": int(row.refer_issue or 0), **state},
            "rating": final if findings or row.status == FileStatus.DB_READY else None,
            "ai_rating": rules.rating(findings.values()) if findings or row.status == FileStatus.DB_READY else None,
            "target_audience": row.target_audience, "exceeds_target": rules.exceeds(final, row.target_audience),
            "findings": [i for i in kept if "finding_id" in i], "comments": [i for i in kept if "finding_id" not in i],
            "counts": {"findings": len(findings), "user": sum(1 for c in comments if c["source"] == "user"),
                       "ai": len(findings) + sum(1 for c in comments if c["source"] == "ai"),
                       "overridden": len([f for f in effective if "overridden_by" in f])},
            "truncated": truncated, "conclusion": _conclusion(row.file_id)}


def _bounded(items: list[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], bool]:
    spent = 0
    for n, item in enumerate(items):
        spent += response_cost(json.dumps(item, ensure_ascii=False)) + 1
        if spent > budget:
            return items[:n], True
    return items, False

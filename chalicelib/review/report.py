"""The report: rating (after people's overrides), what exceeds the target and why, findings by
scene and by category. Computed on read from the findings and comments, so a new target or a
person's override shows at once without re-analysis.

Bounded for Lambda's 6 MB response: each list is filled in priority order (the strongest
findings first) until its share of ``BUDGET`` (measured as the text weighs in Lambda's payload,
``payload.response_cost``) is spent; ``truncated`` then says so and ``counts`` gives the full
numbers. The Excel report holds every finding.
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from chalicelib.errors import ApiError
from chalicelib.payload import response_cost
from chalicelib.review import rules, store
from chalicelib.status import FileStatus
from chalicelib.uploads.models import FileRow

BUDGET = 5_000_000  # bytes of Lambda payload for the whole report (of 6,291,456)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_INLINE_MAX = 4_000_000  # bytes of workbook sent in the response (base64: 5.3 MB); larger: via S3
LARGE_WORKBOOK = 5_000  # findings; a workbook of more is built by the analysis queue, then served from S3
SHARES = {"categories": 0.1, "scenes": 0.2, "exceedances": 0.3, "findings": 0.4}
PUBLIC = ("id", "category", "category_name", "severity", "age", "basis", "qualifiers", "scene", "scene_label",
          "line", "excerpt", "evidence", "labelling", "advice", "analyzer")


class NotRated(ApiError):
    status, code = 409, "not_rated"


def _strength(f: dict[str, Any]) -> tuple[int, int]:
    return -rules.age_rank(f.get("age")), -rules.severity_rank(f["severity"])


def _place(f: dict[str, Any]) -> tuple[int, int, str]:
    return (f["scene"] if f.get("scene") is not None else 1 << 30, f.get("line") or 0, f["category"])


def _public(f: dict[str, Any], target: str | None) -> dict[str, Any]:
    out = {name: f.get(name) for name in PUBLIC}
    out["advice"] = rules.advice(f, target) if rules.exceeds(f.get("age"), target) else f.get("advice") or ""
    for extra in ("ai_severity", "ai_age", "overridden_by"):
        if extra in f:
            out[extra] = f[extra]
    return out


def _fill(items: list[dict[str, Any]], budget: float) -> tuple[list[dict[str, Any]], int, bool]:
    """The longest prefix of ``items`` that fits ``budget``; (kept, cost, cut)."""
    kept, spent = [], 0
    for item in items:
        cost = response_cost(json.dumps(item, ensure_ascii=False)) + 1
        if spent + cost > budget:
            return kept, spent, True
        kept.append(item)
        spent += cost
    return kept, spent, False


def effective_findings(row: FileRow) -> list[dict[str, Any]]:
    """Every finding of a rated file, with people's severities applied."""
    if row.status != FileStatus.DB_READY:
        raise NotRated(f"the file is not rated yet (status {row.status}); the report is ready at db_ready",
                       {"status": row.status})
    chosen = rules.overrides(store.comments_of(row.file_id))
    return [rules.effective(f, chosen.get(f["id"])) for f in store.findings_of(row.file_id)]


def build(row: FileRow) -> dict[str, Any]:
    return render(row, effective_findings(row), row.target_audience)


def workbook(row: FileRow) -> tuple[bytes | None, str | None, str | None]:
    """(workbook, None, None) when it is small; (None, url, None) when it is too large for a Lambda
    response (binary bodies travel base64 in its 6 MB) and stored in S3; (None, None, key) when
    it is large enough to be built by the analysis queue (a 20,000-finding workbook takes longer
    than API Gateway waits) and is not built yet: the caller asks for it and answers 202."""
    if row.status != FileStatus.DB_READY:
        raise NotRated(f"the file is not rated yet (status {row.status}); the report is ready at db_ready",
                       {"status": row.status})
    if store.finding_count(row.file_id) <= LARGE_WORKBOOK:
        data = build_workbook(row)
        return (data, None, None) if len(data) <= XLSX_INLINE_MAX else (None, _stash(row, data), None)
    key = workbook_key(row)
    if _stored(key):
        return None, _link(row, key), None
    return None, None, key


def workbook_key(row: FileRow) -> str:
    """Names one state of the report: findings and ratings (rating_version, rated_at), comments
    (their count: an override need not change the rating) and the target."""
    import hashlib

    state = json.dumps([row.rating_version, row.rated_at, row.comment_count, row.target_audience,
                        row.rated_run], default=str)
    return f"reports/{row.file_id}/{hashlib.sha256(state.encode()).hexdigest()[:32]}.xlsx"


def build_workbook(row: FileRow) -> bytes:
    from chalicelib.review import workbook as excel

    findings = effective_findings(row)
    return excel.write(render(row, findings, row.target_audience), findings)


def store_workbook(file_id: str, key: str) -> str:
    """The analysis queue's part: build the large workbook once for the state its key names."""
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        return "gone"
    if row.status != FileStatus.DB_READY or workbook_key(row) != key:
        return "stale"  # the report changed meanwhile; the next GET asks for the new one
    if not _stored(key):
        _put(key, build_workbook(row))
    return "stored"


def _put(key: str, data: bytes) -> None:
    from chalicelib.provider import client, settings

    client("s3").put_object(Bucket=settings().media_bucket, Key=key, Body=data, ContentType=XLSX)


def _stored(key: str) -> bool:
    from chalicelib.provider import client, settings

    s3 = client("s3")
    try:
        s3.head_object(Bucket=settings().media_bucket, Key=key)
        return True
    except s3.exceptions.ClientError:
        return False


def _stash(row: FileRow, data: bytes) -> str:
    key = workbook_key(row)
    _put(key, data)
    return _link(row, key)


def _link(row: FileRow, key: str) -> str:
    from chalicelib.provider import client, settings
    from chalicelib.uploads.objects import content_disposition

    return client("s3").generate_presigned_url("get_object", ExpiresIn=settings().presign_ttl, Params={
        "Bucket": settings().media_bucket, "Key": key,
        "ResponseContentDisposition": content_disposition(f"report-{row.file_id}.xlsx")})


def render(row: FileRow, findings: list[dict[str, Any]], target: str | None) -> dict[str, Any]:
    """The report body from effective findings (pure, so the worst case is testable in memory)."""
    final, ai = rules.rating(findings), rules.rating({**f, "age": f.get("ai_age", f.get("age"))} for f in findings)
    by_scene: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_scene[f.get("scene") if f.get("scene") is not None else f.get("scene_label")].append(f)
        by_category[f["category"]].append(f)
    scenes = [{"scene": group[0].get("scene"), "scene_label": group[0].get("scene_label") or "",
               "heading": next((g["heading"] for g in group if g.get("heading")), ""),
               "rating": rules.rating(group), "findings": len(group),
               "exceeds_target": rules.exceeds(rules.rating(group), target)}
              for group in sorted(by_scene.values(), key=lambda g: _place(g[0]))]
    categories = []
    for cid, group in by_category.items():
        top = min(group, key=_strength)
        categories.append({"category": cid, "name": top.get("category_name") or cid, "severity": top["severity"],
                           "age": rules.rating(group) if any(g.get("age") for g in group) else None,
                           "findings": len(group)})
    categories.sort(key=lambda c: (-rules.age_rank(c["age"]), -rules.severity_rank(c["severity"]), c["category"]))
    strongest = sorted(findings, key=lambda f: (*_strength(f), *_place(f)))
    over = [f for f in strongest if rules.exceeds(f.get("age"), target)]
    sections: dict[str, list[dict[str, Any]]] = {}
    truncated = False
    spare = 0.0
    for name, items in (("categories", categories), ("scenes", scenes),
                        ("exceedances", [_public(f, target) for f in over]),
                        ("findings", [_public(f, target) for f in strongest])):
        kept, spent, cut = _fill(items, BUDGET * SHARES[name] + spare)
        spare = BUDGET * SHARES[name] + spare - spent
        truncated |= cut
        sections[name] = kept if name not in ("exceedances", "findings") else sorted(kept, key=_place)
    return {
        "file_id": row.file_id, "status": row.status, "filename": row.filename,
        "rating": final, "ai_rating": ai, "target_audience": target, "exceeds_target": rules.exceeds(final, target),
        "labelling": sorted({f["labelling"] for f in findings if f.get("labelling") and f["severity"] != "none"}),
        "exceedances": sections["exceedances"], "findings": sections["findings"], "scenes": sections["scenes"],
        "categories": sections["categories"], "truncated": truncated,
        "qualifiers": rules.qualifier_meanings(findings),
        "counts": {"findings": len(findings), "exceedances": len(over), "scenes": len(scenes),
                   "categories": len(categories), "overridden": sum(1 for f in findings if "overridden_by" in f)},
        "analysis_run": int(row.analysis_run or 0), "rated_run": int(row.rated_run or 0), "rated_at": row.rated_at,
    }

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


def workbook(row: FileRow) -> tuple[bytes | None, str | None]:
    """(the workbook, None) when it fits a Lambda response; else (None, a presigned GET of it in
    S3): binary bodies travel base64 (4/3 of their size) inside Lambda's 6 MB."""
    import hashlib

    from chalicelib.provider import client, settings
    from chalicelib.review import workbook as excel
    from chalicelib.uploads.objects import content_disposition

    findings = effective_findings(row)
    data = excel.write(render(row, findings, row.target_audience), findings)
    if len(data) <= XLSX_INLINE_MAX:
        return data, None
    key = f"reports/{row.file_id}/{hashlib.sha256(data).hexdigest()[:32]}.xlsx"
    s3 = client("s3")
    s3.put_object(Bucket=settings().media_bucket, Key=key, Body=data, ContentType=XLSX)
    return None, s3.generate_presigned_url("get_object", ExpiresIn=settings().presign_ttl, Params={
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
        "counts": {"findings": len(findings), "exceedances": len(over), "scenes": len(scenes),
                   "categories": len(categories), "overridden": sum(1 for f in findings if "overridden_by" in f)},
        "analysis_run": int(row.analysis_run or 0), "rated_run": int(row.rated_run or 0), "rated_at": row.rated_at,
    }

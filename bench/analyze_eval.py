"""Precision and recall of the rating engine on the labelled scenes in bench/data/rating_eval.jsonl.

Each line is one hand-written scene (Russian or English): its text, the category families a person
would flag with their severity (``expect``), families that may or may not be flagged
(``optional``), and for some the expected file rating under the default catalog (``age``); scenes
marked ``"split": "holdout"`` were written after the lexicons were tuned and are reported apart. A family
counts as predicted when a finding of it has a severity above ``none``. Prints precision and
recall per family and overall, severity agreement on the true positives, and rating accuracy.

    .venv/bin/python -m bench.analyze_eval [--catalog default|studio] [--split all|tuned|holdout] [--show]
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from chalicelib.rating import Category, rate
from chalicelib.rating.model import SEVERITIES
from chalicelib.reading import read

DATA = Path(__file__).with_name("data") / "rating_eval.jsonl"
ROOT = Path(__file__).resolve().parents[1]
CLIENT_WORKBOOK = ROOT.parent / "shared" / "data" / "classification_events.xlsx"


def items(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def default_catalog() -> list[Category]:
    data = json.loads((ROOT / "infra" / "catalog" / "default_catalog.json").read_text(encoding="utf-8"))
    return [Category.from_entry(entry) for entry in data["violations"]]


def client_catalog(path: Path = CLIENT_WORKBOOK) -> list[Category]:
    from chalicelib.catalog import excel

    return [Category.from_entry(entry) for entry in excel.read(path.read_bytes())[1]]


def evaluate(catalog: list[Category], data: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Counts per family (tp, fp, fn), severity agreement and rating accuracy over the set."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    exact = within = 0
    ages = ages_right = 0
    misses: list[str] = []
    for item in data if data is not None else items():
        document = read(item["text"].encode("utf-8"), f"{item['id']}.txt")
        rating = rate(document, catalog)
        predicted: dict[str, str] = {}
        for f in rating.findings:
            if f.severity != "none" and SEVERITIES.index(f.severity) > SEVERITIES.index(predicted.get(f.family, "none")):
                predicted[f.family] = f.severity
        expected = item["expect"]
        optional = set(item.get("optional") or ())
        for family in set(predicted) | set(expected):
            if family in expected and family in predicted:
                tp[family] += 1
                diff = abs(SEVERITIES.index(predicted[family]) - SEVERITIES.index(expected[family]))
                exact += diff == 0
                within += diff <= 1
            elif family in expected:
                fn[family] += 1
                misses.append(f"{item['id']}: missed {family}")
            elif family not in optional:
                fp[family] += 1
                misses.append(f"{item['id']}: extra {family} ({predicted[family]})")
        if item.get("age"):
            ages += 1
            ages_right += rating.rating == item["age"]
            if rating.rating != item["age"]:
                misses.append(f"{item['id']}: rated {rating.rating}, expected {item['age']}")
    families = sorted(set(tp) | set(fp) | set(fn))
    per = {fam: _pr(tp[fam], fp[fam], fn[fam]) for fam in families}
    overall = _pr(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    total_tp = sum(tp.values())
    return {"families": per, "overall": overall, "severity_exact": exact / total_tp if total_tp else 0.0,
            "severity_within_one": within / total_tp if total_tp else 0.0,
            "rating_accuracy": ages_right / ages if ages else 0.0, "rated": ages, "misses": misses}


def _pr(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    return {"tp": tp, "fp": fp, "fn": fn, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", choices=("default", "studio"), default="default",
                        help="studio: the default catalog plus the client's workbook, as after a studio loads it")
    parser.add_argument("--show", action="store_true", help="list every miss")
    parser.add_argument("--split", choices=("all", "tuned", "holdout"), default="all",
                        help="tuned: the scenes the lexicons were tuned on; holdout: written after, never tuned on")
    args = parser.parse_args()
    catalog = default_catalog() if args.catalog == "default" else default_catalog() + client_catalog()
    data = [i for i in items() if args.split == "all" or i.get("split", "tuned") == args.split]
    result = evaluate(catalog, data)
    print(f"{len(data)} scenes ({args.split}), catalog: {args.catalog}")
    print(f"{'family':18s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'precision':>10s} {'recall':>8s}")
    for family, row in result["families"].items():
        print(f"{family:18s} {row['tp']:4d} {row['fp']:4d} {row['fn']:4d} {row['precision']:10.2f} {row['recall']:8.2f}")
    o = result["overall"]
    print(f"{'overall':18s} {o['tp']:4d} {o['fp']:4d} {o['fn']:4d} {o['precision']:10.2f} {o['recall']:8.2f}")
    print(f"severity on true positives: exact {result['severity_exact']:.2f}, within one step "
          f"{result['severity_within_one']:.2f}; file rating right on {result['rating_accuracy']:.2f} "
          f"of {result['rated']} scenes with an expected rating")
    if args.show:
        print("\n".join(result["misses"]))


if __name__ == "__main__":
    main()

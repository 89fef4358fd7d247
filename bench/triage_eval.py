"""Known-anomaly triage measured on the labelled set (tests/triage/eval), per part of its split.

    .venv/bin/python -m bench.triage_eval [--part tune|untouched|both] [--fit] [--misses] [--no-write]

The set was split before any tuning (tests/triage/eval/split.yaml): "tune" may be looked at when choosing
weights and the calibration; "untouched" is only measured. For each part it prints:
- top-1: answerable cases whose first finding is a right answer;
- top-5: answerable cases with a right answer among the first five suggestions, findings or not;
- log-only top-1: the same as top-1, for cases answerable only from their log;
- no-answer quiet: cases with no right answer that show no finding;
- out of range: suggestions (of any confidence) for an anomaly that does not affect the case's version,
  checked against the catalogue independently of the ranking's own version mask.
It writes the figures, the misses and the commit measured to bench/results/triage-eval-<date>.json.

--fit refits the calibration (app/triage/calibration.py) on the tuning part only and writes
app/triage/calibration.json before measuring. The cut is the one that does best on the tuning part in
5-fold cross-validation (each case's confidence comes from a model fitted without it): the best top-1
among the cuts that keep no-answer cases quiet at least 90 % of the time.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("EXOS", "VOSS", "WiNG", "XIQ", "XCC")
TARGETS = {"top1": 0.97, "top5": 1.0, "log_only_top1": 0.95, "no_answer_quiet": 0.85, "out_of_range": 0}
LIMIT = 10


@dataclass
class Outcome:
    uid: str
    kind: str  # "text", "log" or "none"
    expected: list[str]
    ranked: list[str]
    findings: list[str]
    confidences: list[float]
    out_of_range: list[str]
    features: list[dict] = field(default_factory=list)


def _commit() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def _findings(case: dict):
    from app.triage.logscan import scan_log

    return [scan_log(io.BytesIO(case["log"].encode()))] if case.get("log") else []


def run(indexes, catalogue, cases: list[dict], calibration=None) -> list[Outcome]:
    """Rank every case; `catalogue` maps (family, code) to (ranges, fixes) for the independent range check."""
    from app.triage.ranking import rank
    from app.triage.versions import is_affected, parse_version

    outcomes = []
    for case in cases:
        family = case["family"].casefold()
        ranked = rank(indexes[family], case["version"], case["text"], _findings(case), limit=LIMIT,
                      calibration=calibration)
        version = parse_version(case["version"])
        outside = [s.code for s in ranked if not is_affected(version, *catalogue[(family, s.code)])]
        outcomes.append(Outcome(case["uid"], case["kind"], case["expected"], [s.code for s in ranked],
                                [s.code for s in ranked if s.finding], [s.confidence for s in ranked], outside,
                                [s.features for s in ranked]))
    return outcomes


def _share(items, test):
    return round(sum(1 for o in items if test(o)) / len(items), 3) if items else None


def top1(o: Outcome) -> bool:
    return bool(o.findings) and o.findings[0] in o.expected


def summary(outcomes: list[Outcome]) -> dict:
    answerable = [o for o in outcomes if o.expected]
    no_answer = [o for o in outcomes if not o.expected]
    log_only = [o for o in answerable if o.kind == "log"]
    text_only = [o for o in answerable if o.kind == "text"]
    return {
        "cases": len(outcomes), "answerable": len(answerable), "log_only": len(log_only),
        "no_answer": len(no_answer),
        "top1": _share(answerable, top1),
        "top5": _share(answerable, lambda o: any(code in o.expected for code in o.ranked[:5])),
        "log_only_top1": _share(log_only, top1),
        "text_only_top1": _share(text_only, top1),
        "no_answer_quiet": _share(no_answer, lambda o: not o.findings),
        "out_of_range": sum(len(o.out_of_range) for o in outcomes),
        "ranked_first_whatever_the_confidence": _share(answerable, lambda o: o.ranked[:1] and o.ranked[0] in o.expected),
        "answerable_with_a_wrong_finding": _share(answerable, lambda o: any(c not in o.expected for c in o.findings)),
        "findings_per_answerable_case": round(sum(len(o.findings) for o in answerable) / len(answerable), 2)
        if answerable else None,
        "misses": [{"case": o.uid, "kind": o.kind, "expected": o.expected, "ranked": o.ranked[:5],
                    "confidence": o.confidences[:5], "findings": o.findings}
                   for o in outcomes if (o.expected and not top1(o)) or (not o.expected and o.findings)
                   or not any(code in o.expected for code in o.ranked[:5]) and o.expected],
    }


def _training_rows(outcomes: list[Outcome]) -> tuple[list[dict], list[int], list[int]]:
    rows, labels, groups = [], [], []
    for n, o in enumerate(outcomes):
        for code, features in zip(o.ranked, o.features):
            rows.append(features)
            labels.append(1 if code in o.expected else 0)
            groups.append(n)
    return rows, labels, groups


QUIET_FLOOR = 0.9  # the cut keeps no-answer cases quiet at least this often (target 0.85, with a margin)


def _rates(outcomes: list[Outcome], confidences: list[list[float]], cut: float) -> tuple[float, float]:
    """(top-1, no-answer quiet) if findings were the suggestions whose confidence reaches `cut`."""
    answerable = [(o, c) for o, c in zip(outcomes, confidences) if o.expected]
    no_answer = [(o, c) for o, c in zip(outcomes, confidences) if not o.expected]

    def first_finding_right(o, c):
        found = [code for code, conf in zip(o.ranked, c) if conf >= cut]
        return bool(found) and found[0] in o.expected

    hit = sum(first_finding_right(o, c) for o, c in answerable) / len(answerable)
    quiet = sum(all(conf < cut for conf in c) for _, c in no_answer) / len(no_answer)
    return hit, quiet


def _choose_cut(outcomes: list[Outcome], confidences: list[list[float]]) -> tuple[float, dict]:
    """The cut with the best top-1 among those keeping no-answer cases quiet at least QUIET_FLOOR of the time."""
    cuts = [round(0.05 * i, 2) for i in range(1, 20)]
    curve = {cut: _rates(outcomes, confidences, cut) for cut in cuts}
    allowed = [cut for cut in cuts if curve[cut][1] >= QUIET_FLOOR] or cuts
    best = max(allowed, key=lambda cut: (curve[cut][0], curve[cut][1], -cut))
    return best, {str(cut): {"top1": round(hit, 3), "no_answer_quiet": round(quiet, 3)}
                  for cut, (hit, quiet) in curve.items()}


def fit_calibration(outcomes: list[Outcome], folds: int = 5, seed: int = 7):
    """Fit on every tuning case; choose the cut on 5-fold cross-validated confidences."""
    from app.triage import calibration
    from app.triage.ranking import FEATURES

    rows, labels, groups = _training_rows(outcomes)
    order = list(range(len(outcomes)))
    random.Random(seed).shuffle(order)
    fold_of = {case: i % folds for i, case in enumerate(order)}
    held_out: list[list[float]] = [[] for _ in outcomes]
    for fold in range(folds):
        train = [i for i, g in enumerate(groups) if fold_of[g] != fold]
        model = calibration.fit([rows[i] for i in train], [labels[i] for i in train], FEATURES)
        for n, o in enumerate(outcomes):
            if fold_of[n] == fold:
                held_out[n] = [model.confidence(f) for f in o.features]
    best, curve = _choose_cut(outcomes, held_out)
    model = calibration.fit(rows, labels, FEATURES, cut=best, trained_on={
        "part": "tune", "cases": len(outcomes), "candidates": len(rows), "right_answers": sum(labels),
        "cut_chosen_by": f"{folds}-fold cross-validation on the tuning part: the best top-1 among cuts keeping "
                         f"no-answer cases quiet at least {QUIET_FLOOR} of the time",
        "cross_validated": curve[str(best)], **_commit()})
    print("cross-validated on the tuning part (cut: top-1, no-answer quiet):",
          ", ".join(f"{cut}: {v['top1']}/{v['no_answer_quiet']}" for cut, v in curve.items()))
    return model


def _setup(folder: str):
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/eval.db"}, instance_path=folder)
    context = app.app_context()
    context.push()
    db.create_all()  # a scratch database: the schema, not the migration history, matters here
    return context


def _load():
    import sqlalchemy as sa

    from app.extensions import db
    from app.triage.catalogue import seed_sample_notes
    from app.triage.models import KnownAnomaly
    from app.triage.ranking import load_index
    from app.triage.versions import parse_range, parse_version

    seed_sample_notes()
    indexes = {family.casefold(): load_index(db.session, family) for family in FAMILIES}
    catalogue = {(a.product_family.casefold(), a.code): ([parse_range(r) for r in a.affected],
                                                         [parse_version(f) for f in a.fixed_in])
                 for a in db.session.scalars(sa.select(KnownAnomaly))}
    return indexes, catalogue


def _print(part: str, report: dict, show_misses: bool) -> None:
    def figure(name):
        value = report[name]
        target = TARGETS.get(name)
        mark = "" if target is None else (" (target met)" if (value <= target if name == "out_of_range"
                                                              else value >= target) else f" (target {target})")
        return f"{value}{mark}"

    print(f"\n{part}: {report['cases']} cases, {report['answerable']} answerable "
          f"({report['log_only']} only from the log), {report['no_answer']} without a right answer")
    for name in ("top1", "top5", "log_only_top1", "no_answer_quiet", "out_of_range"):
        print(f"  {name:<18} {figure(name)}")
    print(f"  {'text_only_top1':<18} {report['text_only_top1']}")
    print(f"  {'wrong finding too':<18} {report['answerable_with_a_wrong_finding']} of answerable cases")
    if show_misses:
        for miss in report["misses"]:
            print("   miss", json.dumps(miss))


def main(argv: list[str] | None = None) -> dict:
    from tests.triage.eval.labelled import PARTS, load_part

    parser = argparse.ArgumentParser(prog="python -m bench.triage_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=(*PARTS, "both"), default="both")
    parser.add_argument("--fit", action="store_true", help="refit the calibration on the tuning part first")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    parts = PARTS if args.part == "both" else (args.part,)

    from app.triage import calibration

    result = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **_commit(), "parts": {}}
    with tempfile.TemporaryDirectory() as folder:
        context = _setup(folder)
        try:
            indexes, catalogue = _load()
            if args.fit:
                model = fit_calibration(run(indexes, catalogue, load_part("tune")))
                calibration.CALIBRATION_PATH.write_text(model.to_json())
                calibration.shipped.cache_clear()
                print(f"calibration refitted on the tuning part: cut {model.cut}")
            model = calibration.shipped()
            result["calibration"] = {"cut": model.cut, "features": dict(zip(model.features, model.weights)),
                                     "trained_on": model.trained_on}
            for part in parts:
                report = summary(run(indexes, catalogue, load_part(part), model))
                result["parts"][part] = report
                _print(part, report, args.misses)
        finally:
            context.pop()
    if "untouched" in result["parts"]:
        untouched = result["parts"]["untouched"]
        result["targets_on_untouched"] = {
            name: (untouched[name] <= target if name == "out_of_range" else untouched[name] >= target)
            for name, target in TARGETS.items()}
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"triage-eval-{result['measured_at'][:10]}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

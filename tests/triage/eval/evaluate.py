"""Measuring known-anomaly ranking on labelled cases.

cases.yaml is the set the threshold and synonym list were tuned on;
heldout.yaml was written independently of that tuning and is the honest
estimate. Run as a script for the report (it builds a throw-away SQLite
database):
    .venv/bin/python -m tests.triage.eval.evaluate [--cases PATH] [--json PATH]
"""
from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.triage.logscan import scan_log
from app.triage.ranking import FamilyIndex, rank

CASES_PATH = Path(__file__).with_name("cases.yaml")
HELDOUT_PATH = Path(__file__).with_name("heldout.yaml")


def load_cases(path: Path | str = CASES_PATH) -> list[dict]:
    return yaml.safe_load(Path(path).read_text())["cases"]


@dataclass
class Outcome:
    case_id: str
    kind: str  # "text", "log" or "none"
    expected: list[str]
    ranked: list[str]
    above: list[str]
    top_score: float


def kind_of(case: dict) -> str:
    if not case["expected"]:
        return "none"
    return "log" if case["id"].startswith("l") else "text"


def run(indexes: dict[str, FamilyIndex], cases: list[dict] | None = None) -> list[Outcome]:
    outcomes = []
    for case in load_cases() if cases is None else cases:
        findings = [scan_log(io.BytesIO(case["log"].encode()))] if case.get("log") else []
        suggestions = rank(indexes[case["family"]], case["version"], case["text"], findings, limit=5)
        outcomes.append(Outcome(
            case["id"], kind_of(case), case["expected"], [s.code for s in suggestions],
            [s.code for s in suggestions if s.above_threshold],
            suggestions[0].score if suggestions else 0.0))
    return outcomes


def summary(outcomes: list[Outcome]) -> dict:
    answerable = [o for o in outcomes if o.expected]
    unanswerable = [o for o in outcomes if not o.expected]

    def share(items, test):
        return round(sum(1 for o in items if test(o)) / len(items), 3) if items else None

    def top1(o):
        return bool(o.above) and o.above[0] in o.expected

    def top5(o):
        return any(code in o.expected for code in o.ranked[:5])

    text_only = [o for o in answerable if o.kind == "text"]
    log_only = [o for o in answerable if o.kind == "log"]
    report = {
        "cases": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "top1_accuracy": share(answerable, top1),
        "top5_accuracy": share(answerable, top5),
        "top1_accuracy_text_only": share(text_only, top1),
        "top1_accuracy_log_only": share(log_only, top1),
        "top5_accuracy_text_only": share(text_only, top5),
        "top5_accuracy_log_only": share(log_only, top5),
        "ranked_first_ignoring_threshold": share(answerable, lambda o: o.ranked[:1] and o.ranked[0] in o.expected),
        "unanswerable_shown_nothing": share(unanswerable, lambda o: not o.above),
        "top_scores_answerable": sorted(o.top_score for o in answerable),
        "top_scores_unanswerable": sorted(o.top_score for o in unanswerable),
        "answerable_with_suggestion_above_threshold": share(answerable, lambda o: bool(o.above)),
        # noise the engineer has to read past even when the right answer is there
        "answerable_with_wrong_suggestion_above_threshold":
            share(answerable, lambda o: any(code not in o.expected for code in o.above)),
        "misses": [{"case": o.case_id, "kind": o.kind, "expected": o.expected, "ranked": o.ranked, "above": o.above,
                    "top_score": o.top_score}
                   for o in outcomes if (o.expected and not top1(o)) or (not o.expected and o.above)],
    }
    return report


def _main(argv: list[str]) -> None:
    import argparse
    import tempfile

    from app import create_app
    from app.extensions import db
    from app.triage.catalogue import seed_sample_notes
    from app.triage.ranking import load_index

    parser = argparse.ArgumentParser(prog="python -m tests.triage.eval.evaluate")
    parser.add_argument("--cases", type=Path, default=CASES_PATH,
                        help="labelled cases (default: the tuned set, cases.yaml)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    cases = load_cases(args.cases)

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/eval.db"}, instance_path=folder)
        with app.app_context():
            db.create_all()  # a scratch database: the schema, not the migration history, matters here
            seed_sample_notes()
            indexes = {family: load_index(db.session, family) for family in ("EXOS", "VOSS", "WING")}
            report = summary(run(indexes, cases))
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    _main(sys.argv[1:])

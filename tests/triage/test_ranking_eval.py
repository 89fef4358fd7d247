"""Known-anomaly ranking measured on the labelled cases of tests/triage/eval/cases.yaml.

The floors sit a little under the figures reported in tests/triage/eval/REPORT.md,
so that a change to analysis, vocabulary or threshold that makes triage worse fails here.
"""
from collections import Counter

import pytest

from app.extensions import db
from app.triage.catalogue import seed_sample_notes
from app.triage.ranking import load_index
from tests.triage.eval.evaluate import load_cases, run, summary


@pytest.fixture
def report(ctx):
    seed_sample_notes()
    indexes = {family: load_index(db.session, family) for family in ("EXOS", "VOSS", "WING")}
    return summary(run(indexes))


def test_the_labelled_set_is_large_and_varied():
    cases = load_cases()
    kinds = Counter("none" if not c["expected"] else "log" if c.get("log") and c["id"].startswith("l") else "text"
                    for c in cases)
    assert len(cases) >= 50
    assert kinds["log"] >= 10 and kinds["none"] >= 10 and kinds["text"] >= 25
    assert len({c["id"] for c in cases}) == len(cases)


def test_ranking_meets_its_floors(report):
    assert report["top1_accuracy"] >= 0.85, report["misses"]
    assert report["top5_accuracy"] >= 0.95, report["misses"]
    assert report["top1_accuracy_log_only"] >= 0.9, report["misses"]
    assert report["unanswerable_shown_nothing"] >= 0.85, report["misses"]

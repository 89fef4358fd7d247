"""Known-anomaly ranking measured on the labelled cases of tests/triage/eval/.

cases.yaml is the set the threshold and synonym list were tuned on; heldout.yaml
was written without looking at them. The floors sit a little under the figures
reported in tests/triage/eval/REPORT.md, so that a change to analysis, vocabulary
or threshold that makes triage worse fails here. The held-out floors are what
guards against tuning to cases.yaml at the expense of unseen text.
"""
from collections import Counter

import pytest

from app.extensions import db
from app.triage.catalogue import seed_sample_notes
from app.triage.ranking import load_index
from tests.triage.eval.evaluate import HELDOUT_PATH, load_cases, run, summary


def _indexes():
    seed_sample_notes()
    return {family: load_index(db.session, family) for family in ("EXOS", "VOSS", "WING")}


@pytest.fixture
def report(ctx):
    return summary(run(_indexes()))


@pytest.fixture
def heldout_report(ctx):
    return summary(run(_indexes(), load_cases(HELDOUT_PATH)))


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


def test_the_held_out_set_is_large_and_varied():
    cases = load_cases(HELDOUT_PATH)
    kinds = Counter("none" if not c["expected"] else "log" if c.get("log") and c["id"].startswith("l") else "text"
                    for c in cases)
    assert len(cases) >= 50
    assert kinds["log"] >= 10 and kinds["none"] >= 10 and kinds["text"] >= 25
    assert len({c["id"] for c in cases}) == len(cases)
    # the held-out set must not just repeat the tuned one
    assert not {c["text"] for c in cases} & {c["text"] for c in load_cases()}


def test_ranking_meets_its_held_out_floors(heldout_report):
    # Measured: 1.0 / 1.0 / 1.0 / 1.0 / 0.647 (11 of 17); each floor allows one to three
    # more misses. The quiet-rate floor is low because the figure is: it guards the
    # current level, it is not a target.
    assert heldout_report["top1_accuracy"] >= 0.94, heldout_report["misses"]
    assert heldout_report["top5_accuracy"] >= 0.96, heldout_report["misses"]
    assert heldout_report["top1_accuracy_text_only"] >= 0.93, heldout_report["misses"]
    assert heldout_report["top1_accuracy_log_only"] >= 0.9, heldout_report["misses"]
    assert heldout_report["unanswerable_shown_nothing"] >= 0.58, heldout_report["misses"]

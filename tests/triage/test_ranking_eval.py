"""The labelled set for known-anomaly triage (tests/triage/eval): its size and make-up, and its labels."""
from collections import Counter

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.triage.catalogue import seed_sample_notes
from app.triage.models import KnownAnomaly
from app.triage.versions import is_affected, parse_range, parse_version
from tests.triage.eval.labelled import load_all, load_file

FAMILIES = {"EXOS", "VOSS", "WING", "XIQ", "XCC"}


def _shares(cases):
    kinds = Counter(c["kind"] for c in cases)
    return kinds["none"] / len(cases), kinds["log"] / len(cases)


def test_the_labelled_set_is_large_and_varied():
    cases = load_all()
    assert len(cases) >= 200
    assert len({c["uid"] for c in cases}) == len(cases)
    assert {c["family"].upper() for c in cases} == FAMILIES
    no_answer, log_only = _shares(cases)
    assert no_answer >= 0.2 and log_only >= 0.2, (no_answer, log_only)
    # The cases written for this set say in what voice; each voice is well represented.
    voices = Counter(c["voice"] for c in cases if "voice" in c)
    assert all(voices[v] >= 10 for v in ("terse", "verbose", "misspelled", "cli", "mixed")), voices
    # No text is repeated between the files.
    assert len({c["text"] for c in cases}) == len(cases)


def test_log_only_cases_need_their_log_and_no_answer_cases_say_why():
    for case in load_all():
        if case["kind"] == "log":
            assert case.get("log"), case["uid"]
        if case["kind"] == "none" and case["source"] not in ("cases", "heldout"):
            assert case.get("why"), case["uid"]


def test_every_label_names_an_anomaly_that_affects_the_cases_version(ctx):
    seed_sample_notes()
    anomalies = {(a.product_family.casefold(), a.code): a for a in db.session.scalars(sa.select(KnownAnomaly))}
    wrong = []
    for case in load_all():
        version = parse_version(case["version"])
        for code in case["expected"]:
            anomaly = anomalies.get((case["family"].casefold(), code))
            if anomaly is None or not is_affected(version, [parse_range(r) for r in anomaly.affected],
                                                  [parse_version(f) for f in anomaly.fixed_in]):
                wrong.append((case["uid"], code))
    assert wrong == []


def test_the_new_families_have_cases_of_every_kind():
    for stem in ("xiq", "xcc", "voss", "wing", "exos"):
        kinds = Counter(c["kind"] for c in load_file(stem))
        assert kinds["text"] >= 5 and kinds["log"] >= 9 and kinds["none"] >= 6, (stem, kinds)


def test_the_split_puts_every_case_in_one_part():
    from tests.triage.eval.labelled import load_split

    split = load_split()
    uids = {c["uid"] for c in load_all()}
    assert split["tune"] | split["untouched"] == uids
    assert not split["tune"] & split["untouched"]
    # The set an earlier ranking was tuned on cannot be an honest measure: it is all in the tuning part.
    assert {c["uid"] for c in load_file("cases")} <= split["tune"]
    untouched = [c for c in load_all() if c["uid"] in split["untouched"]]
    assert len(untouched) >= 100 and {c["family"].upper() for c in untouched} == FAMILIES
    no_answer, log_only = _shares(untouched)
    assert no_answer >= 0.2 and log_only >= 0.2, (no_answer, log_only)


@pytest.fixture
def measured(ctx):
    """Both parts of the set ranked with the shipped calibration, as `python -m bench.triage_eval` does."""
    from bench.triage_eval import FAMILIES, run, summary
    from app.triage.ranking import load_index
    from app.triage.versions import parse_range, parse_version
    from tests.triage.eval.labelled import load_part

    seed_sample_notes()
    indexes = {family.casefold(): load_index(db.session, family) for family in FAMILIES}
    catalogue = {(a.product_family.casefold(), a.code): ([parse_range(r) for r in a.affected],
                                                         [parse_version(f) for f in a.fixed_in])
                 for a in db.session.scalars(sa.select(KnownAnomaly))}
    outcomes = {part: run(indexes, catalogue, load_part(part)) for part in ("tune", "untouched")}
    return outcomes, {part: summary(found) for part, found in outcomes.items()}


def test_triage_meets_its_targets_on_the_untouched_part(measured):
    # Measured (tests/triage/eval/REPORT.md): top-1 0.976, top-5 1.000, log-only top-1 0.971, no-answer
    # quiet 0.909, nothing out of range. Top-5 and the range are held exactly; the others may lose one case.
    _, report = measured
    untouched = report["untouched"]
    assert untouched["top5"] == 1.0, untouched["misses"]
    assert untouched["out_of_range"] == 0
    assert untouched["top1"] >= 0.96, untouched["misses"]
    assert untouched["log_only_top1"] >= 0.94, untouched["misses"]
    assert untouched["no_answer_quiet"] >= 0.87, untouched["misses"]
    tune = report["tune"]
    assert tune["top5"] == 1.0 and tune["out_of_range"] == 0 and tune["top1"] >= 0.97, tune["misses"]
    assert tune["no_answer_quiet"] >= 0.93, tune["misses"]


def test_the_shipped_calibration_is_the_one_fitted_on_the_tuning_part_alone(measured):
    """Refitting on the tuning part gives the shipped model back: nothing of the untouched part is in it."""
    from app.triage import calibration
    from app.triage.ranking import FEATURES
    from bench.triage_eval import fit_calibration

    outcomes, _ = measured
    shipped = calibration.shipped()
    refitted = fit_calibration(outcomes["tune"])
    assert shipped.features == FEATURES and shipped.trained_on["part"] == "tune"
    assert shipped.trained_on["cases"] == len(outcomes["tune"])
    assert refitted.cut == shipped.cut
    assert refitted.weights == pytest.approx(shipped.weights, abs=1e-4)
    assert refitted.bias == pytest.approx(shipped.bias, abs=1e-4)


def test_a_fitted_calibration_tells_right_answers_from_wrong_ones():
    from app.triage.calibration import fit

    rows = [{"score": s, "margin": m} for s, m in [(3.0, 0.8), (2.5, 0.6), (2.8, 0.9), (0.5, 0.1), (0.4, 0.0),
                                                    (0.9, 0.2), (1.0, 0.1), (2.9, 0.7)]]
    labels = [1, 1, 1, 0, 0, 0, 0, 1]
    model = fit(rows, labels, ("score", "margin"))
    confidences = [model.confidence(r) for r in rows]
    assert all(0 < c < 1 for c in confidences)
    assert min(c for c, y in zip(confidences, labels) if y) > max(c for c, y in zip(confidences, labels) if not y)
    assert model.confidence({"score": 5, "margin": 1}) > model.confidence({"score": 1, "margin": 1})

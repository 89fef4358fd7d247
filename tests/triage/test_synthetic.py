"""The benchmark's synthetic release notes and logs are valid input for the real import and scan."""
import io

import sqlalchemy as sa

from app.extensions import db
from app.triage.catalogue import import_notes
from app.triage.logscan import scan_log
from app.triage.models import KnownAnomaly
from app.triage.ranking import load_index, rank
from app.triage.synthetic import synthetic_notes, write_synthetic_log
from app.triage.versions import is_affected, parse_range, parse_version


def test_synthetic_notes_are_consistent_and_deterministic():
    notes = list(synthetic_notes(families=2, releases=20, anomalies=200))
    assert [n.digest for n in notes] == [n.digest for n in synthetic_notes(families=2, releases=20, anomalies=200)]
    assert len(notes) == 20 and {n.product_family for n in notes} == {"SYN00", "SYN01"}
    for item in notes:
        for entry in item.entries:
            affects = is_affected(parse_version(item.release), [parse_range(r) for r in entry.affected],
                                  [parse_version(f) for f in entry.fixed_in])
            assert affects == (entry.section == "known")


def test_synthetic_notes_import_and_rank(ctx):
    import_notes(list(synthetic_notes(families=2, releases=20, anomalies=200)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KnownAnomaly)) == 200
    index = load_index(db.session, "SYN00")
    family = db.session.scalars(sa.select(KnownAnomaly).filter_by(product_family="SYN00").order_by(KnownAnomaly.id))
    fixed_later = next(a for a in family if a.fixed_in)
    suggestions = rank(index, fixed_later.affected[0].removeprefix(">="), fixed_later.title)
    assert suggestions[0].code == fixed_later.code and suggestions[0].first_fix == fixed_later.fixed_in[0]


def test_synthetic_log_has_the_planted_signature():
    out = io.BytesIO()
    size = write_synthetic_log(out, 6_000_000, signature="<Crit:EPM.Process.Died> Process hal died with signal 6")
    assert size >= 6_000_000
    findings = scan_log(io.BytesIO(out.getvalue()))
    assert findings.software_version == "32.6.1.4"
    assert [c.text for c in findings.crash_signatures] == ["EPM.Process.Died Process hal died with signal #"]
    assert findings.crash_signatures[0].count == findings.lines // 50_000

"""Release-notes files: refusals with line and reason, idempotent import, merging across releases."""
import json
import textwrap

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.triage.catalogue import import_path
from app.triage.models import KnownAnomaly, Release, ReleaseEntry
from app.triage.notes_file import ReleaseNotesError, parse_notes

GOOD = textwrap.dedent("""\
    product_family: EXOS
    release: 32.6.1.4
    known_anomalies:
      - id: EXOS-1
        title: Stack node reboots under multicast load
        description: mcmgr stops responding when the group table is full.
        affected: [">=32.5.1.0"]
        severity: major
    fixed_issues:
      - id: EXOS-2
        title: LLDP-MED policy missing
        description: Phones did not learn the voice VLAN.
    """)


def problems_of(text, source="notes.yaml"):
    with pytest.raises(ReleaseNotesError) as refused:
        parse_notes(text, source)
    return [(p.line, p.reason) for p in refused.value.problems]


def test_a_good_file_parses_with_implied_fixes():
    notes = parse_notes(GOOD)
    known, fixed = notes.entries
    assert (known.code, known.section, known.fixed_in) == ("EXOS-1", "known", [])
    assert (fixed.code, fixed.section, fixed.fixed_in, fixed.affected) == ("EXOS-2", "fixed", ["32.6.1.4"], ["<32.6.1.4"])


def test_unquoted_versions_stay_strings():
    notes = parse_notes(GOOD.replace("release: 32.6.1.4", "release: 8.10").replace(">=32.5.1.0", ">=8.1"))
    assert notes.release == "8.10"  # YAML alone would read the float 8.1


def test_schema_errors_name_the_line():
    text = GOOD.replace("severity: major", "severity: huge")
    assert problems_of(text) == [(8, "known_anomalies/0/severity: 'huge' is not one of "
                                     "['critical', 'major', 'minor', 'cosmetic']")]
    missing = GOOD.replace("    title: Stack node reboots under multicast load\n", "")
    [(line, reason)] = problems_of(missing)
    assert line == 4 and "'title' is a required property" in reason


def test_every_problem_is_reported_at_once():
    text = GOOD.replace('[">=32.5.1.0"]', '["32.7 - 32.5"]').replace("id: EXOS-2", "id: EXOS-1")
    found = problems_of(text)
    assert [line for line, _ in found] == [7, 10]
    assert "range ends before it starts" in found[0][1]
    assert "EXOS-1 is listed twice (first at line 4)" in found[1][1]


def test_a_known_anomaly_must_affect_its_release():
    [(line, reason)] = problems_of(GOOD.replace('[">=32.5.1.0"]', '["<32.6.1.0"]'))
    assert line == 7 and "listed as open in 32.6.1.4" in reason


def test_syntax_errors_name_the_line():
    [(line, reason)] = problems_of("product_family: EXOS\nrelease: [32.6\n")
    assert line == 3 and reason.startswith("not valid YAML")
    [(line, reason)] = problems_of('{"product_family": "EXOS",\n "release": }', "notes.json")
    assert line == 2 and reason.startswith("not valid JSON")
    [(line, reason)] = problems_of("product_family: EXOS\nproduct_family: VOSS\nrelease: 1.0\n")
    assert line == 2 and "duplicate key" in reason


def test_json_files_are_accepted(tmp_path, ctx):
    import yaml

    path = tmp_path / "notes.json"
    path.write_text(json.dumps(yaml.safe_load(GOOD.replace("32.6.1.4", "'32.6.1.4'"))))
    report = import_path(path)
    assert [r.status for r in report.releases] == ["new"]


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Release, KnownAnomaly, ReleaseEntry))


def test_import_is_idempotent_and_updates_in_place(tmp_path, ctx):
    path = tmp_path / "exos-32.6.1.4.yaml"
    path.write_text(GOOD)
    assert [r.status for r in import_path(path).releases] == ["new"]
    assert counts() == (1, 2, 2)
    assert [r.status for r in import_path(path).releases] == ["unchanged"]
    assert counts() == (1, 2, 2)

    path.write_text(GOOD.replace("mcmgr stops responding", "mcmgr hangs"))
    assert [r.status for r in import_path(path).releases] == ["updated"]
    assert counts() == (1, 2, 2)
    anomaly = db.session.scalars(sa.select(KnownAnomaly).filter_by(code="EXOS-1")).one()
    assert anomaly.description == "mcmgr hangs when the group table is full."

    # An anomaly dropped from the notes is no longer listed (its row stays for rulings).
    path.write_text(GOOD.split("fixed_issues:")[0])
    import_path(path)
    assert counts() == (1, 2, 1)
    assert db.session.scalars(sa.select(KnownAnomaly).filter_by(code="EXOS-2")).one().listed is False


def test_later_releases_add_fixes_whatever_the_import_order(tmp_path, ctx):
    first = tmp_path / "a.yaml"
    first.write_text(GOOD)
    later = tmp_path / "b.yaml"
    later.write_text(textwrap.dedent("""\
        product_family: EXOS
        release: 32.6.2.1
        fixed_issues:
          - id: EXOS-1
            title: Fixed multicast reboot
            description: Short text of the fix.
            affected: [">=32.5.1.0"]
        """))
    import_path(later)
    import_path(first)
    anomaly = db.session.scalars(sa.select(KnownAnomaly).filter_by(code="EXOS-1")).one()
    assert anomaly.fixed_in == ["32.6.2.1"]
    assert anomaly.title == "Stack node reboots under multicast load"  # the open-anomaly text wins
    assert anomaly.severity.value == "major"


def test_cli_refuses_a_bad_folder_and_writes_nothing(app, tmp_path, ctx):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(GOOD.replace("release: 32.6.1.4", "release: 32.6.2.1")
                                       .replace("severity: major", "severity: 3"))
    result = app.test_cli_runner().invoke(args=["releasenotes", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}:8: known_anomalies/0/severity" in result.output
    assert "nothing was imported" in result.output
    assert counts() == (0, 0, 0)


def test_cli_imports_the_sample_set_twice_without_duplicates(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["releasenotes", "import", "app/triage/sample"])
    assert first.exit_code == 0, first.output
    before = counts()
    second = runner.invoke(args=["releasenotes", "import", "app/triage/sample"])
    assert second.exit_code == 0 and second.output.count("unchanged") == before[0]
    assert counts() == before
    assert before[0] == 19 and before[1] >= 85


def test_families_keep_the_vendors_spelling_and_match_without_case(tmp_path, ctx):
    from app.triage.models import AnomalyCatalogue
    from app.triage.ranking import IndexCache, rank

    wing = GOOD.replace("product_family: EXOS", "product_family: WiNG").replace("EXOS-", "WING-")
    (tmp_path / "wing-a.yaml").write_text(wing)
    (tmp_path / "wing-b.yaml").write_text(wing.replace("product_family: WiNG", "product_family: WING")
                                          .replace("release: 32.6.1.4", "release: 32.6.2.1"))
    assert [r.status for r in import_path(tmp_path).releases] == ["new", "new"]
    # One family, spelled as the first file that named it; its anomalies are not duplicated.
    assert db.session.scalars(sa.select(AnomalyCatalogue.product_family)).all() == ["WiNG"]
    assert set(db.session.scalars(sa.select(KnownAnomaly.product_family))) == {"WiNG"}
    assert counts() == (2, 2, 4)
    # A product whose family is written in other letters still finds them.
    for spelling in ("wing", "WING", "WiNG"):
        index = IndexCache().get(db.session, spelling)
        assert [s.code for s in rank(index, "32.6.1.4", "stack node reboots multicast group table")][:1] == ["WING-1"]


def test_the_same_release_under_two_spellings_is_refused(tmp_path, ctx):
    (tmp_path / "a.yaml").write_text(GOOD.replace("product_family: EXOS", "product_family: WiNG"))
    (tmp_path / "b.yaml").write_text(GOOD.replace("product_family: EXOS", "product_family: WING"))
    with pytest.raises(ReleaseNotesError) as refused:
        import_path(tmp_path)
    assert "is also described by" in str(refused.value)

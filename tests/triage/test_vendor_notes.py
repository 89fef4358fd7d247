"""Release notes as vendors publish them: issue tables of PDF and HTML documents, imported and checked."""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.triage.catalogue import import_path
from app.triage.models import KnownAnomaly, Release, ReleaseEntry
from app.triage.notes_file import ReleaseNotesError
from app.triage.notes_reader import read_notes
from app.triage.ranking import load_index, rank
from app.triage.vendor_notes import Document, RawTable, notes_from_document
from tests.triage.vendor_documents import FILLER, OPEN, RESOLVED, vendor_html, vendor_pdf


def problems(path, **options):
    with pytest.raises(ReleaseNotesError) as refused:
        read_notes(path, **options)
    return [str(p) for p in refused.value.problems]


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Release, KnownAnomaly, ReleaseEntry))


def test_a_vendor_pdf_gives_its_open_and_resolved_issues(tmp_path):
    path = tmp_path / "exos-32.6.2.1.pdf"
    path.write_bytes(vendor_pdf())
    notes = read_notes(path)
    assert (notes.product_family, notes.release) == ("EXOS", "32.6.2.1")
    known = [e for e in notes.entries if e.section == "known"]
    fixed = [e for e in notes.entries if e.section == "fixed"]
    # Every row of the open-issues table, over the pages it runs across; the compatibility table is no issue table.
    assert [e.code for e in known] == [code for code, _, _ in OPEN + FILLER]
    assert [e.code for e in fixed] == [code for code, _ in RESOLVED]
    first = known[0]
    assert first.title == "Stack member reboots when the IGMP snooping table overflows."
    assert first.description.startswith(first.title) and "process watchdog reboots the node" in first.description
    assert (first.affected, first.fixed_in, first.workaround) == (["<=32.6.2.1"], [], "Limit snooped groups with a filter.")
    assert known[2].workaround is None  # "None" in the workaround column
    assert (fixed[0].affected, fixed[0].fixed_in) == (["<32.6.2.1"], ["32.6.2.1"])


def test_pdf_import_is_idempotent_across_regenerated_documents(tmp_path, ctx):
    path = tmp_path / "exos-32.6.2.1.pdf"
    path.write_bytes(vendor_pdf(author="first"))
    assert [r.status for r in import_path(path).releases] == ["new"]
    before = counts()
    assert before == (1, 45, 45)
    path.write_bytes(vendor_pdf(author="second"))  # other bytes, same issues
    assert [r.status for r in import_path(path).releases] == ["unchanged"]
    assert counts() == before
    # An issue added to the document updates the release in place.
    path.write_bytes(vendor_pdf(open_rows=OPEN + FILLER + [("EXOS-40199", "New issue. Details.", "None")]))
    assert [r.status for r in import_path(path).releases] == ["updated"]
    assert counts() == (1, 46, 46)


def test_imported_vendor_issues_are_ranked(tmp_path, ctx):
    path = tmp_path / "notes.pdf"
    path.write_bytes(vendor_pdf())
    import_path(path)
    index = load_index(db.session, "exos")
    ranked = rank(index, "32.6.1.4", "snmpMaster memory keeps growing when we walk ifXTable with GETBULK")
    assert ranked[0].code == "EXOS-40102"
    # Fixed by the release the document describes: no longer suggested there.
    assert "EXOS-39001" in [s.code for s in rank(index, "32.6.1.4", "OSPF neighbours stuck in EXSTART, jumbo frames")]
    assert "EXOS-39001" not in [s.code for s in rank(index, "32.6.2.1", "OSPF neighbours stuck in EXSTART, jumbo frames")]


def test_pdf_refusals_name_the_page(tmp_path):
    path = tmp_path / "bad.pdf"
    rows = OPEN + FILLER[:30] + [("", "A row that lost its ID.", "None"), ("EXOS-4X", "Bad ID, one char.", "None")]
    path.write_bytes(vendor_pdf(open_rows=rows))
    assert problems(path) == [f"{path}:page 3: known_anomalies: a row without an issue ID"]
    # A table under no section heading (on each page it runs over), and a document naming no product or release.
    path.write_bytes(vendor_pdf(headed=False))
    assert problems(path) == [f"{path}:page {n}: a table of issues under no 'open/known issues' or 'fixed issues' "
                              "heading" for n in (2, 3)]
    path.write_bytes(vendor_pdf(title=""))
    [reason] = problems(path)
    assert reason.startswith(f"{path}:page 1: the document does not say which product and release")
    # Then the family and release can be given.
    notes = read_notes(path, family="EXOS", release="32.6.2.1")
    assert len(notes.entries) == 45


def test_a_bad_version_in_a_found_in_column_is_refused_with_its_page(tmp_path):
    path = tmp_path / "notes.pdf"
    rows = [("EXOS-40101", "Stack reboots.", "32.6.1.4"), ("EXOS-40102", "Memory leak.", "soon")]
    path.write_bytes(vendor_pdf(open_rows=rows, extra_open_header=("Issue ID", "Description", "Found In")))
    found = problems(path)
    assert found == [f"{path}:page 2: known_anomalies/1/affected/0: not a version: 'soon'"]
    path.write_bytes(vendor_pdf(open_rows=rows[:1], extra_open_header=("Issue ID", "Description", "Found In")))
    [entry, *_] = read_notes(path).entries
    assert entry.affected == [">=32.6.1.4"]


def test_not_a_pdf(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"<html>this is not a PDF</html>")
    [reason] = problems(path)
    assert reason.startswith(f"{path}: not a readable PDF")


def test_a_vendor_html_page_gives_its_known_and_fixed_issues(tmp_path, ctx):
    path = tmp_path / "voss.html"
    path.write_bytes(vendor_html())
    notes = read_notes(path)
    assert (notes.product_family, notes.release) == ("VOSS", "8.10.3.0")
    assert [(e.section, e.code, e.severity, e.workaround) for e in notes.entries] == [
        ("known", "VOSS-50001", "major", "Disable hello padding."),
        ("known", "VOSS-50002", "cosmetic", "Use the CLI."),
        ("fixed", "VOSS-49001", None, None)]
    assert [r.status for r in import_path(path).releases] == ["new"]
    assert [r.status for r in import_path(path).releases] == ["unchanged"]


def test_html_refusals_name_the_line(tmp_path):
    path = tmp_path / "voss.html"
    path.write_bytes(vendor_html(known=[("VOSS-50001", "Flaps.", "Huge", "x"), ("", "An orphan row.", "Low", "y")]))
    # Every problem at once, each with the line of its row.
    assert problems(path) == [
        f"{path}:10: known_anomalies/0/severity: 'huge' is not one of ['critical', 'major', 'minor', 'cosmetic']",
        f"{path}:11: known_anomalies: a row without an issue ID"]


def test_a_row_cut_by_a_page_break_continues_on_the_next_page():
    document = Document("notes.pdf", "page", "ExtremeXOS 32.6.2.1 Release Notes", [
        RawTable([["Issue ID", "Description"], ["EXOS-1", "The first half of a description"]], "Open Issues", 2),
        RawTable([["Issue ID", "Description"], ["", "and its second half."], ["EXOS-2", "Another."]], "", 3)])
    notes = notes_from_document(document)
    assert [(e.code, e.description) for e in notes.entries] == [
        ("EXOS-1", "The first half of a description and its second half."), ("EXOS-2", "Another.")]


def test_cli_imports_a_folder_mixing_formats(app, tmp_path, ctx):
    (tmp_path / "exos.pdf").write_bytes(vendor_pdf())
    (tmp_path / "voss.htm").write_bytes(vendor_html())
    runner = app.test_cli_runner()
    first = runner.invoke(args=["releasenotes", "import", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "EXOS 32.6.2.1: new, 45 anomalies listed" in first.output
    assert "VOSS 8.10.3.0: new, 3 anomalies listed" in first.output
    again = runner.invoke(args=["releasenotes", "import", str(tmp_path)])
    assert again.output.count("unchanged") == 2
    (tmp_path / "bad.pdf").write_bytes(vendor_pdf(title=""))
    refused = runner.invoke(args=["releasenotes", "import", str(tmp_path)])
    assert refused.exit_code == 1 and f"{tmp_path / 'bad.pdf'}:page 1: the document does not say" in refused.output

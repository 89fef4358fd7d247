"""Release notes as vendors publish them: the "open / known issues" and "fixed issues" tables of a PDF or
HTML release-notes document, read into the project's release-notes data and checked like a file of it.

A document names its product and release in its title ("ExtremeXOS 32.6.2.1 Release Notes"); the
product names each family goes by, the section headings and the column headers are data
(vendor_notes.yaml). Issue tables are found by their columns (an ID and a description or title) and
take their section from the heading above them; a table continued on the next page keeps its section,
and a row without an ID there continues the row before it. Every refusal says where:
`file:page N: reason` for a PDF, `file:line: reason` for HTML.

What the tables usually leave out is filled in as the release-notes format does for its own files: an
open issue affects the release and those before it (`<=release`), a fixed one those before it
(`<release`); the title is the description's first sentence when there is no title column. The digest
is taken over what was read, not the file's bytes, so a document regenerated with the same issues is
"unchanged" on import.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from app.triage.notes_file import Problem, ReleaseNotes, ReleaseNotesError, notes_from_data

VOCABULARY_PATH = Path(__file__).with_name("vendor_notes.yaml")
TITLE_LIMIT = 300
_SPACES = re.compile(r"\s+")
_RELEASE = r"v?(?P<release>\d+(?:\.\d+)+(?:r\d+)?(?:[-_.][A-Za-z0-9]+)*)"
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|\Z)")


@dataclass(frozen=True)
class Vocabulary:
    products: tuple[tuple[str, str], ...]  # (name, family), longest name first
    sections: dict[str, re.Pattern]
    columns: dict[str, re.Pattern]
    severities: dict[str, str]
    title: re.Pattern  # "<product> <release> ... Release Notes"

    def family(self, product: str) -> str:
        wanted = _SPACES.sub(" ", product).casefold()
        return next(family for name, family in self.products if name.casefold() == wanted)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    data = yaml.safe_load(VOCABULARY_PATH.read_text())
    products = sorted(((name, family) for family, names in data["products"].items() for name in names),
                      key=lambda item: -len(item[0]))
    names = "|".join(re.escape(name).replace(r"\ ", r"\s+") for name, _ in products)
    title = re.compile(rf"(?i)(?<![\w-])(?P<product>{names})\s+(?:(?:software|release|version)\s+)*{_RELEASE}"
                       r"\b[^\n]{0,40}?\brelease\s+notes\b")
    return Vocabulary(tuple(products), {k: re.compile(v) for k, v in data["sections"].items()},
                      {k: re.compile(v) for k, v in data["columns"].items()},
                      {str(k).lower(): v for k, v in data["severities"].items()}, title)


@dataclass
class RawTable:
    """A table as the document holds it: rows of cell texts, the heading above it, and where it is."""

    rows: list[list[str]]
    heading: str  # the section heading text found above the table ("" when none was)
    where: int  # the page (PDF) or line (HTML) of the table
    row_where: list[int] = field(default_factory=list)  # the page or line of each row


@dataclass
class Document:
    source: str
    unit: str  # "page" or "line"
    title_text: str  # where the product and release are named (first page; <title> and first heading)
    tables: list[RawTable]


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def read_document(raw: bytes, source: str, suffix: str, family: str | None = None,
                  release: str | None = None) -> ReleaseNotes:
    """Read a vendor's PDF or HTML release notes; raises ReleaseNotesError naming page or line."""
    document = _read_pdf(raw, source) if suffix == ".pdf" else _read_html(raw, source)
    return notes_from_document(document, family, release)


def notes_from_document(document: Document, family: str | None = None, release: str | None = None) -> ReleaseNotes:
    vocab = vocabulary()
    source, unit = document.source, document.unit
    problems: list[Problem] = []
    named = vocab.title.search(document.title_text)
    if named is not None:
        family = family or vocab.family(named["product"])
        release = release or named["release"]
    if not family or not release:
        problems.append(Problem(source, 1, "the document does not say which product and release it describes "
                                           "(a title such as 'ExtremeXOS 32.6.2.1 Release Notes'): give the "
                                           "family and release (--family, --release), or add the product's "
                                           "name to app/triage/vendor_notes.yaml", unit))
        raise ReleaseNotesError(problems)

    data: dict[str, Any] = {"product_family": family, "release": release}
    lines: dict[tuple, int] = {(): 1, ("product_family",): 1, ("release",): 1}
    section = None
    found_tables = 0
    for table in document.tables:
        columns = _columns(table.rows[0] if table.rows else [], vocab)
        if columns is None:
            continue  # not an issue table (a compatibility matrix, a list of files...)
        found_tables += 1
        section = _section(table.heading, vocab) or section
        if section is None:
            problems.append(Problem(source, table.where, "a table of issues under no 'open/known issues' or "
                                                         "'fixed issues' heading", unit))
            continue
        key = "known_anomalies" if section == "known" else "fixed_issues"
        items = data.setdefault(key, [])
        # A PDF table continued on the next page may begin with the rest of the row the page cut.
        previous = items[-1] if unit == "page" and items else None
        for row, where in zip(table.rows[1:], table.row_where[1:] or [table.where] * len(table.rows)):
            cells = {name: _clean(row[i]) if i < len(row) else "" for name, i in columns.items()}
            # An ID holds no spaces: a narrow column wraps it ("EXOS-4010" / "1") and the lines join again.
            cells["id"] = "".join(cells["id"].split())
            if _columns(row, vocab) is not None or not any(cells.values()):
                continue  # the header repeated on a continuation page, or an empty row
            if not cells["id"]:
                if previous is not None and cells.get("description"):  # a cell split across pages
                    previous["description"] = f"{previous['description']} {cells['description']}".strip()
                    previous = None
                    continue
                problems.append(Problem(source, where, f"{key}: a row without an issue ID", unit))
                continue
            item = _item(cells, section, release, vocab)
            lines[(key, len(items))] = where
            items.append(item)
            previous = None
    if not found_tables:
        problems.append(Problem(source, 1, "no table of open/known or fixed issues found (an issue table has an "
                                           "ID column and a description or title column)", unit))
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    try:
        notes = notes_from_data(data, lines, source, digest, unit)
    except ReleaseNotesError as exc:  # every problem at once: the table's and the content's
        problems.extend(exc.problems)
    if problems:
        raise ReleaseNotesError(sorted(problems, key=lambda p: p.line or 0))
    return notes


def _columns(header: list[str], vocab: Vocabulary) -> dict[str, int] | None:
    """Which column holds what, if `header` is an issue table's header row."""
    found: dict[str, int] = {}
    for position, cell in enumerate(header):
        text = _clean(cell).rstrip(":")
        for name, pattern in vocab.columns.items():
            if name not in found and pattern.match(text):
                found[name] = position
                break
    if "id" not in found or not ({"description", "title"} & set(found)):
        return None
    return found


def _section(heading: str, vocab: Vocabulary) -> str | None:
    """The section the last heading line that names one opens ("known" or "fixed")."""
    for line in reversed([l for l in heading.splitlines() if l.strip()]):
        for name in ("fixed", "known"):  # "Resolved known issues" is a fixed section
            if vocab.sections[name].search(line):
                return name
    return None


def _item(cells: dict[str, str], section: str, release: str, vocab: Vocabulary) -> dict:
    description = cells.get("description") or cells.get("title") or ""
    title = cells.get("title") or _first_sentence(description)
    item: dict[str, Any] = {"id": cells["id"], "title": title, "description": description}
    versions = [v for v in re.split(r"[,;\s]+", cells.get("affected") or "") if v]
    item["affected"] = [f">={v}" for v in versions] or (
        [f"<={release}"] if section == "known" else [f"<{release}"])
    if section == "known" and cells.get("fixed_in"):
        item["fixed_in"] = [v for v in re.split(r"[,;\s]+", cells["fixed_in"]) if v]
    if cells.get("workaround") and cells["workaround"].strip(" -–—").lower() not in ("", "none", "n/a", "na"):
        item["workaround"] = cells["workaround"]
    if cells.get("severity"):
        item["severity"] = vocab.severities.get(cells["severity"].lower(), cells["severity"].lower())
    return item


def _first_sentence(text: str) -> str:
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    if len(sentence) > TITLE_LIMIT:
        sentence = sentence[:TITLE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return sentence


def _read_pdf(raw: bytes, source: str) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(raw))
    except Exception as exc:  # pdfminer raises many kinds for what is not a PDF
        raise ReleaseNotesError([Problem(source, None, f"not a readable PDF ({exc.__class__.__name__})")]) from exc
    tables: list[RawTable] = []
    title_text = ""
    try:
        for number, page in enumerate(pdf.pages, start=1):
            if number == 1:
                title_text = page.extract_text() or ""
            top = 0.0
            for found in sorted(page.find_tables(), key=lambda t: t.bbox[1]):
                x0, y0, x1, y1 = found.bbox
                above = page.crop((0, top, page.width, max(top, y0))).extract_text() if y0 > top else ""
                rows = [[cell or "" for cell in row] for row in found.extract()]
                tables.append(RawTable(rows, above or "", number, [number] * len(rows)))
                top = y1
    except Exception as exc:  # pdfminer raises many kinds for damaged files
        raise ReleaseNotesError([Problem(source, None, f"not a readable PDF ({exc.__class__.__name__}: {exc})")]) from exc
    finally:
        pdf.close()
    return Document(source, "page", title_text, tables)


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _read_html(raw: bytes, source: str) -> Document:
    from lxml import etree, html

    try:
        root = html.document_fromstring(raw)
    except (etree.ParserError, ValueError) as exc:
        raise ReleaseNotesError([Problem(source, None, f"not readable HTML ({exc})")]) from exc
    title_parts = [root.findtext(".//title") or ""]
    first_heading = next((h for h in root.iter(*_HEADINGS)), None)
    if first_heading is not None:
        title_parts.append(first_heading.text_content())
    tables: list[RawTable] = []
    heading = ""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        if element.tag in _HEADINGS and next(element.iterancestors("table"), None) is None:
            heading = _clean(element.text_content())
        elif element.tag == "table" and next(element.iterancestors("table"), None) is None:
            caption = element.find("caption")
            rows, where = [], []
            for tr in element.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
                rows.append([cell.text_content() for cell in tr.xpath("./th|./td")])
                where.append(tr.sourceline or element.sourceline or 1)
            text = heading if caption is None else f"{heading}\n{_clean(caption.text_content())}"
            tables.append(RawTable(rows, text, element.sourceline or 1, where))
    return Document(source, "line", "\n".join(title_parts), tables)

"""Ranking known anomalies for a case with BM25 (the bm25s library), and saying how sure each one is.

One BM25 index per product family holds every listed anomaly of the family (title, description, log
signatures). A case is scored twice against it: its own text, and every line of its logs. Each log line
weighs by its severity, and a line that shows a crash or fault signature weighs more: the scanner's
findings are a boost, not a filter, so a routine-looking line that names the anomaly still counts. Only
anomalies that affect the case's version count, by a mask computed once per (family, version) and cached
with the index.

Each suggestion then gets features (calibration.py) and a confidence learned from labelled cases; those
at or above the calibration's cut are findings, the rest weaker matches. Each also carries its
explanation: the words it matched, in the case's own spelling, and the log lines that matched.

Indexes live in process memory and are rebuilt when the family's catalogue revision (changed by every
import) differs from the one they were built from, so every web process and worker ranks the same way on
SQLite and PostgreSQL: the database only stores the anomalies; ranking never depends on the backend.
"""
from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import sqlalchemy as sa

from app.triage import calibration as calibration_module
from app.triage.analysis import Vocabulary, document_terms, not_a_fault, terms
from app.triage.calibration import Calibration
from app.triage.logscan import Findings, LineFinding, log_language
from app.triage.models import AnomalyCatalogue, KnownAnomaly
from app.triage.versions import (Version, VersionError, VersionRange, first_fix_after, is_affected,
                                 parse_range, parse_version)

if TYPE_CHECKING:  # numpy and bm25s load with the first ranking, not in every process (~12 MB)
    import bm25s
    import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)

TITLE_WEIGHT = 2  # the title is repeated in the indexed text: it names the symptom
MAX_CACHED_VERSIONS = 256
# How much one log line counts, by severity; a line with a crash or fault signature counts SIGNATURE_BOOST
# times more. A whole log should not outweigh what the partner wrote, hence LOG_WEIGHT.
LINE_WEIGHT = {"crit": 1.0, "error": 0.8, "warning": 0.6, "info": 0.3, "debug": 0.15, "": 0.4}
SIGNATURE_BOOST = 1.6
LOG_WEIGHT = 1.0
DISTINCTIVE_TERMS = 8  # the anomaly's rarest terms: its distinctive wording
MAX_EVIDENCE = 3
MAX_LOG_LINES = 600  # kept templates considered per case (a scan keeps at most 900 per log)
FEATURES = ("score", "score_ratio_top", "margin_next", "inv_rank", "anomaly_coverage", "distinctive_share",
            "text_coverage", "log_share", "matched_terms", "version_fit", "signature_match", "kind_match",
            "not_a_fault", "has_log")


@dataclass
class Suggestion:
    """One known anomaly ranked for a case, with how sure triage is and why it was suggested."""

    anomaly_pk: int
    code: str
    score: float
    text_score: float
    log_score: float
    matched_terms: list[str]  # in the words of the case or its log
    log_evidence: list[str]  # the log lines that matched, as they were written, most telling first
    first_fix: str | None
    confidence: float = 0.0
    finding: bool = False  # confident enough to ask the engineer for a ruling (checklist item 5)
    signature_kinds: list[str] = field(default_factory=list)  # crash or fault kinds the log and anomaly share
    features: dict[str, float] = field(default_factory=dict)
    title: str = ""  # the anomaly's title in the catalogue revision it was ranked on

    @property
    def above_threshold(self) -> bool:
        """A finding (the name the API has always used for 'needs a ruling')."""
        return self.finding


def anomaly_text(title: str, description: str, signatures: Iterable[str]) -> str:
    """The text of an anomaly as it is indexed."""
    return "\n".join([title] * TITLE_WEIGHT + [description, *signatures])


@dataclass
class FamilyIndex:
    """The BM25 index of one product family, as of one catalogue revision."""

    revision: str
    pks: list[int]
    codes: list[str]
    ranges: list[list[VersionRange]]
    fixes: list[list[Version]]
    retriever: bm25s.BM25 | None
    vocab: Vocabulary | None = None
    titles: list[str] = field(default_factory=list)
    signatures: list[tuple[str, ...]] = field(default_factory=list)
    # Document-major copy of the index (which tokens each anomaly holds) and each token's IDF.
    doc_indptr: np.ndarray | None = None
    doc_tokens: np.ndarray | None = None
    idf: np.ndarray | None = None
    rare_idf: float = 0.0  # an IDF this high makes one shared term telling (an identifier, a process name)
    _masks: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def affected_mask(self, version: Version) -> np.ndarray:
        """1.0 for each anomaly present in `version`, else 0.0 (cached per version)."""
        import numpy as np

        with self._lock:
            mask = self._masks.get(version.key)
            if mask is not None:
                self._masks.move_to_end(version.key)
                return mask
        mask = np.fromiter((is_affected(version, r, f) for r, f in zip(self.ranges, self.fixes)),
                           dtype=np.float32, count=len(self.pks))
        with self._lock:
            self._masks[version.key] = mask
            while len(self._masks) > MAX_CACHED_VERSIONS:
                self._masks.popitem(last=False)
        return mask

    def token(self, term: str) -> int | None:
        return None if self.retriever is None else self.retriever.vocab_dict.get(term)

    def weighted_scores(self, weights: dict[str, float]) -> np.ndarray:
        """BM25 scores of every anomaly for a query whose terms count by `weights`."""
        import numpy as np

        out = np.zeros(len(self.pks), dtype=np.float32)
        if self.retriever is None:
            return out
        matrix = self.retriever.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        for term, weight in weights.items():
            token = self.token(term)
            if token is None or weight <= 0:
                continue
            start, end = indptr[token], indptr[token + 1]
            out[indices[start:end]] += weight * data[start:end]  # a token's postings name each document once
        return out

    def document_tokens(self, doc: int) -> np.ndarray:
        return self.doc_tokens[self.doc_indptr[doc]:self.doc_indptr[doc + 1]]


def build_index(revision: str, rows: list, vocab: Vocabulary | None = None) -> FamilyIndex:
    """Index anomaly rows (pk, code, title, description, signatures, affected, fixed_in)."""
    import numpy as np
    import bm25s

    corpus = [document_terms(anomaly_text(r.title, r.description, r.signatures or []), vocab) for r in rows]
    retriever = None
    doc_indptr = doc_tokens = idf = None
    if rows:
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        indptr, indices = retriever.scores["indptr"], retriever.scores["indices"]
        postings = np.diff(indptr)
        token_of_entry = np.repeat(np.arange(len(postings), dtype=np.int32), postings)
        order = np.argsort(indices, kind="stable")
        doc_tokens = token_of_entry[order]
        doc_indptr = np.searchsorted(indices[order], np.arange(len(rows) + 1)).astype(np.int64)
        n = len(rows)
        idf = np.log(1.0 + (n - postings + 0.5) / (postings + 0.5)).astype(np.float32)
    return FamilyIndex(
        revision=revision, pks=[r.id for r in rows], codes=[r.code for r in rows],
        ranges=[[parse_range(text) for text in r.affected] for r in rows],
        fixes=[[parse_version(text) for text in r.fixed_in] for r in rows],
        retriever=retriever, vocab=vocab, titles=[r.title for r in rows],
        signatures=[tuple(r.signatures or ()) for r in rows],
        doc_indptr=doc_indptr, doc_tokens=doc_tokens, idf=idf,
        rare_idf=float(np.percentile(idf, 75)) if idf is not None and len(idf) else 0.0)


# Read by every ranking (IndexCache.get checks the revision): built once, not per call.
_CATALOGUE = sa.select(AnomalyCatalogue.product_family, AnomalyCatalogue.revision).where(
    sa.func.lower(AnomalyCatalogue.product_family) == sa.bindparam("family", type_=sa.String(), required=True))


def _catalogue(session, family: str) -> tuple[str, str]:
    """(spelling, revision) of the family's catalogue, matched without regard to case; ("", "") if none."""
    row = session.execute(_CATALOGUE, {"family": family.lower()}).first()
    return (row[0], row[1]) if row else ("", "")


def load_index(session, family: str, vocab: Vocabulary | None = None) -> FamilyIndex:
    """Build the index of one family from the database (the family's spelling does not matter: WiNG is WING)."""
    spelling, revision = _catalogue(session, family)
    family = spelling or family
    rows = session.execute(
        sa.select(KnownAnomaly.id, KnownAnomaly.code, KnownAnomaly.title, KnownAnomaly.description,
                  KnownAnomaly.signatures, KnownAnomaly.affected, KnownAnomaly.fixed_in)
        .where(KnownAnomaly.product_family == family, KnownAnomaly.listed.is_(True))
        .order_by(KnownAnomaly.id)).all()
    return build_index(revision, rows, vocab)


class IndexCache:
    """Per-process family indexes, rebuilt when their catalogue revision changes."""

    def __init__(self):
        self._indexes: dict[str, FamilyIndex] = {}
        self._lock = threading.Lock()

    def get(self, session, family: str) -> FamilyIndex:
        _, current = _catalogue(session, family)
        key = family.casefold()
        index = self._indexes.get(key)
        if index is not None and index.revision == current:
            return index
        with self._lock:  # one build at a time; the others wait and reuse it
            index = self._indexes.get(key)
            if index is None or index.revision != current:
                index = load_index(session, family)
                self._indexes[key] = index
        return index


@dataclass
class _LogLine:
    finding: LineFinding
    weight: float
    terms: frozenset[str]


def _log_lines(findings: list[Findings], vocab: Vocabulary | None) -> list[_LogLine]:
    lines, seen = [], set()
    for found in findings:
        for line in found.all_lines():
            if line.text in seen:
                continue
            seen.add(line.text)
            weight = LINE_WEIGHT.get(line.severity, LINE_WEIGHT[""]) * (SIGNATURE_BOOST if line.kinds else 1.0)
            lines.append(_LogLine(line, weight, frozenset(t for t, _ in terms(line.text, vocab))))
            if len(lines) >= MAX_LOG_LINES:
                return lines
    return lines


def _version_fit(index: FamilyIndex, doc: int, findings: list[Findings], declared: Version) -> float:
    """1.0 when every version the logs report is affected too (or they report none); less when they disagree."""
    seen = []
    for found in findings:
        if found.software_version:
            try:
                seen.append(parse_version(found.software_version))
            except VersionError:
                continue
    # A version the log reports that is not the declared one and not of its family's numbering is ignored.
    seen = [v for v in seen if v != declared and v.train[0] == declared.train[0]]
    if not seen:
        return 1.0
    return sum(is_affected(v, index.ranges[doc], index.fixes[doc]) for v in seen) / len(seen)


def rank(index: FamilyIndex, version_text: str, case_text: str, findings: Iterable[Findings] = (),
         limit: int = 10, calibration: Calibration | None = None) -> list[Suggestion]:
    """The anomalies of `index` that affect `version_text`, best first, at most `limit`, each with its
    confidence and whether it is a finding (by `calibration`, the shipped one by default).

    Anomalies that share no term with the case or its logs are left out. A
    version that cannot be parsed affects nothing.
    """
    import numpy as np

    try:
        version = parse_version(version_text)
    except VersionError:
        return []
    if not index.pks:
        return []
    calibration = calibration or calibration_module.shipped()
    findings = list(findings)
    vocab = index.vocab
    case_terms = terms(case_text, vocab)
    words: dict[str, str] = {}
    for term, word in case_terms:
        words.setdefault(term, word)
    text_weights = {term: 1.0 for term, _ in case_terms}
    lines = _log_lines(findings, vocab)
    log_weights: dict[str, float] = {}
    for line in lines:
        for term, word in terms(line.finding.text, vocab):
            words.setdefault(term, word)
            if line.weight > log_weights.get(term, 0.0):
                log_weights[term] = line.weight

    mask = index.affected_mask(version)
    text_scores = index.weighted_scores(text_weights) * mask
    log_scores = index.weighted_scores(log_weights) * (mask * LOG_WEIGHT)
    total = text_scores + log_scores
    candidates = np.flatnonzero(total > 0)
    if candidates.size == 0:
        return []
    ordered = candidates[np.argsort(-total[candidates], kind="stable")][:limit + 1]
    best, following = ordered[:limit], ordered[1:]

    idf = index.idf
    query_tokens = {index.token(t) for t in text_weights} - {None}
    text_idf = float(sum(idf[t] for t in query_tokens)) or 1.0
    log_kinds = {kind for line in lines for kind in line.finding.kinds}
    case_level = {"not_a_fault": not_a_fault(case_text), "has_log": 1.0 if lines else 0.0}
    top = float(total[best[0]])
    max_idf = math.log1p(len(index.pks))
    out = []
    for position, doc in enumerate(best):
        doc = int(doc)
        doc_tokens = index.document_tokens(doc)
        token_set = set(doc_tokens.tolist())
        doc_terms = {t for t in set(text_weights) | set(log_weights) if index.token(t) in token_set}
        matched_tokens = {index.token(t) for t in doc_terms}
        doc_idf = idf[doc_tokens]
        # Its distinctive wording: its rarest terms, all of those tied with the last one included (token
        # ids differ from process to process, so a tie must not be broken by them).
        floor = np.sort(doc_idf)[::-1][:DISTINCTIVE_TERMS][-1] if len(doc_idf) else 0.0
        rarest = doc_tokens[doc_idf >= floor]
        score = float(total[doc])
        next_score = float(total[following[position]]) if position < len(following) else 0.0
        line_scores = _line_matches(index, lines, token_set)
        signature_match, sig_kinds = _signature_match(index, doc, lines, log_kinds, vocab)
        values = {
            # BM25 scores grow with the catalogue (rarer terms weigh more among more anomalies): divided by
            # the largest IDF the family can give, a confidence learned on a small catalogue holds on a large one.
            "score": math.log1p(score / max_idf),
            "score_ratio_top": score / top,
            "margin_next": (score - next_score) / score,
            "inv_rank": 1.0 / (position + 1),
            "anomaly_coverage": float(sum(idf[t] for t in matched_tokens)) / float(doc_idf.sum() or 1.0),
            "distinctive_share": float(sum(idf[t] for t in rarest if t in matched_tokens))
                                 / float(idf[rarest].sum() or 1.0),
            "text_coverage": float(sum(idf[t] for t in matched_tokens & query_tokens)) / text_idf,
            "log_share": float(log_scores[doc]) / score,
            "matched_terms": math.log1p(len(doc_terms)),
            "version_fit": _version_fit(index, doc, findings, version),
            "signature_match": signature_match,
            "kind_match": 1.0 if sig_kinds else 0.0,
            **case_level,
        }
        confidence = calibration.confidence(values)
        matched = sorted(doc_terms, key=lambda t: words.get(t, t).lower())
        fix = first_fix_after(version, index.fixes[doc])
        evidence = [lines[i].finding.sample for i, _ in line_scores[:MAX_EVIDENCE]]
        out.append(Suggestion(
            anomaly_pk=index.pks[doc], code=index.codes[doc], score=round(score, 3),
            text_score=round(float(text_scores[doc]), 3), log_score=round(float(log_scores[doc]), 3),
            matched_terms=[words.get(t, t) for t in matched], log_evidence=evidence,
            first_fix=str(fix) if fix else None, confidence=round(confidence, 3),
            finding=confidence >= calibration.cut, signature_kinds=sorted(sig_kinds),
            features={k: round(v, 4) for k, v in values.items()}, title=index.titles[doc]))
    return out


def _line_matches(index: FamilyIndex, lines: list[_LogLine], token_set: set[int]) -> list[tuple[int, float]]:
    """Log lines sharing distinctive terms with the anomaly: (line position, weight), most telling first.

    A line counts when it shares two terms with the anomaly, or one that is
    rare in the family (an identifier such as a process name).
    """
    if not lines:
        return []
    idf, scored, rare = index.idf, [], index.rare_idf
    for position, line in enumerate(lines):
        shared = [index.token(t) for t in line.terms]
        shared = [t for t in shared if t is not None and t in token_set]
        if len(shared) >= 2 or (shared and idf[shared[0]] >= rare):
            scored.append((position, line.weight * float(sum(idf[t] for t in shared))))
    scored.sort(key=lambda item: -item[1])
    return scored


def _signature_match(index: FamilyIndex, doc: int, lines: list[_LogLine], log_kinds: set[str],
                     vocab: Vocabulary | None) -> tuple[float, set[str]]:
    """How completely one log line carries one of the anomaly's signatures (0 to 1), and the crash or
    fault kinds the log shares with the anomaly's title and signatures."""
    if not lines:
        return 0.0, set()
    best = 0.0
    for signature in index.signatures[doc]:
        wanted = {t for t, _ in terms(signature, vocab)}
        if not wanted:
            continue
        for line in lines:
            share = len(wanted & line.terms) / len(wanted)
            if share > best:
                best = share
    language = log_language()
    anomaly_kinds = set(language.kinds(" ".join((index.titles[doc], *index.signatures[doc])))) if log_kinds else set()
    return best, anomaly_kinds & log_kinds

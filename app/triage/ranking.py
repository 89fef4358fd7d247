"""Ranking known anomalies for a case with BM25 (the bm25s library).

One BM25 index per product family holds every listed anomaly of the family
(title, description, log signatures). A case is scored twice against it: its
own text, and the crash signatures and error lines found in its logs; the
two BM25 scores add up. Only anomalies that affect the case's version count,
by a mask computed once per (family, version) and cached with the index.

Indexes live in process memory and are rebuilt when the family's catalogue
revision (changed by every import) differs from the one they were built
from, so every web process and worker ranks the same way on SQLite and
PostgreSQL: the database only stores the anomalies; ranking never depends
on the backend.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable

import bm25s
import numpy as np
import sqlalchemy as sa

from app.triage.analysis import Vocabulary, document_terms, terms
from app.triage.logscan import Findings
from app.triage.models import AnomalyCatalogue, KnownAnomaly
from app.triage.versions import (Version, VersionError, VersionRange, first_fix_after, is_affected,
                                 parse_range, parse_version)

logging.getLogger("bm25s").setLevel(logging.WARNING)

# A suggestion scoring at least this much asks the engineer for a ruling.
# Chosen on the labelled set in tests/triage/eval (see its report).
THRESHOLD = 3.0
# At least this many distinct terms must match: one shared word is a coincidence.
MIN_MATCHED_TERMS = 2
TITLE_WEIGHT = 2  # the title is repeated in the indexed text: it names the symptom
MAX_CACHED_VERSIONS = 256


@dataclass
class Suggestion:
    """One known anomaly ranked for a case."""

    anomaly_pk: int
    code: str
    score: float
    text_score: float
    log_score: float
    matched_terms: list[str]
    log_evidence: list[str]
    first_fix: str | None

    @property
    def above_threshold(self) -> bool:
        return self.score >= THRESHOLD and len(self.matched_terms) >= MIN_MATCHED_TERMS


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
    _masks: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def affected_mask(self, version: Version) -> np.ndarray:
        """1.0 for each anomaly present in `version`, else 0.0 (cached per version)."""
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

    def matched_terms(self, query_terms: set[str], docs: np.ndarray) -> list[set[str]]:
        """For each of `docs`, the query terms it contains (read from the index, not kept per document)."""
        found: list[set[str]] = [set() for _ in docs]
        if self.retriever is None:
            return found
        vocab, matrix = self.retriever.vocab_dict, self.retriever.scores
        indptr, indices = matrix["indptr"], matrix["indices"]
        for term in query_terms:
            token = vocab.get(term)
            if token is None:
                continue
            present = np.isin(docs, indices[indptr[token]:indptr[token + 1]])
            for position in np.flatnonzero(present):
                found[position].add(term)
        return found

    def scores(self, query_terms: set[str]) -> np.ndarray:
        if self.retriever is None or not query_terms:
            return np.zeros(len(self.pks), dtype=np.float32)
        ids = self.retriever.get_tokens_ids(sorted(query_terms))
        if not ids:
            return np.zeros(len(self.pks), dtype=np.float32)
        return self.retriever.get_scores(ids)


def build_index(revision: str, rows: list, vocab: Vocabulary | None = None) -> FamilyIndex:
    """Index anomaly rows (pk, code, title, description, signatures, affected, fixed_in)."""
    corpus = [document_terms(anomaly_text(r.title, r.description, r.signatures or []), vocab) for r in rows]
    retriever = None
    if rows:
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
    return FamilyIndex(
        revision=revision, pks=[r.id for r in rows], codes=[r.code for r in rows],
        ranges=[[parse_range(text) for text in r.affected] for r in rows],
        fixes=[[parse_version(text) for text in r.fixed_in] for r in rows],
        retriever=retriever, vocab=vocab)


def _catalogue(session, family: str) -> tuple[str, str]:
    """(spelling, revision) of the family's catalogue, matched without regard to case; ("", "") if none."""
    row = session.execute(sa.select(AnomalyCatalogue.product_family, AnomalyCatalogue.revision).where(
        sa.func.lower(AnomalyCatalogue.product_family) == family.lower())).first()
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


def _query(texts: Iterable[str], vocab: Vocabulary | None) -> tuple[set[str], dict[str, str]]:
    found: set[str] = set()
    words: dict[str, str] = {}
    for text in texts:
        for term, word in terms(text, vocab):
            found.add(term)
            words.setdefault(term, word)
    return found, words


def rank(index: FamilyIndex, version_text: str, case_text: str, findings: Iterable[Findings] = (),
         limit: int = 10) -> list[Suggestion]:
    """The anomalies of `index` that affect `version_text`, best first, at most `limit`.

    Anomalies that share no term with the case or its logs are left out. A
    version that cannot be parsed affects nothing.
    """
    try:
        version = parse_version(version_text)
    except VersionError:
        return []
    if not index.pks:
        return []
    findings = list(findings)
    text_terms, words = _query([case_text], index.vocab)
    log_lines = list(dict.fromkeys(line for f in findings for line in f.texts()))
    log_terms, log_words = _query(log_lines, index.vocab)
    for term, word in log_words.items():
        words.setdefault(term, word)

    mask = index.affected_mask(version)
    text_scores = index.scores(text_terms) * mask
    log_scores = index.scores(log_terms) * mask
    total = text_scores + log_scores
    candidates = np.flatnonzero(total > 0)
    if candidates.size == 0:
        return []
    best = candidates[np.argsort(-total[candidates], kind="stable")][:limit]
    line_terms = [(line, {t for t, _ in terms(line, index.vocab)}) for line in log_lines]  # cached by terms()
    out = []
    for i, doc_matched in zip(best, index.matched_terms(text_terms | log_terms, best)):
        matched = sorted(doc_matched, key=lambda t: words.get(t, t).lower())
        evidence = [line for line, found in line_terms if len(found & doc_matched) >= MIN_MATCHED_TERMS][:3]
        fix = first_fix_after(version, index.fixes[i])
        out.append(Suggestion(
            anomaly_pk=index.pks[i], code=index.codes[i], score=round(float(total[i]), 3),
            text_score=round(float(text_scores[i]), 3), log_score=round(float(log_scores[i]), 3),
            matched_terms=[words.get(t, t) for t in matched], log_evidence=evidence,
            first_fix=str(fix) if fix else None))
    return out

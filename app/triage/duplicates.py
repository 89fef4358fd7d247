"""Other open cases and SRs that may be the same problem: same serial number, or similar text.

The candidates come from the caller's visible cases (app/access.py), so a
partner sees duplicates among its own cases and GTAC among escalated cases of
every partner. Text similarity is BM25 over the candidates, divided by the
case's score against its own text, so that 1.0 means "says the same".
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app import access
from app.accounts.models import User
from app.cases.models import Case, CaseStatus
from app.contracts.models import Product
from app.extensions import db
from app.triage.analysis import term_list

OPEN_STATES = (CaseStatus.OPEN, CaseStatus.ESCALATED)
MAX_CANDIDATES = 500  # the most recent open cases of the product family
SIMILARITY_THRESHOLD = 0.35
MAX_DUPLICATES = 10


@dataclass
class Duplicate:
    case: Case
    reasons: list[str]  # "same_serial", "similar_text"
    similarity: float


def _text(case: Case) -> str:
    return f"{case.title}\n{case.description}"


def find_duplicates(actor: User, case: Case) -> list[Duplicate]:
    """Open cases the caller can see that share the serial number or read alike, most similar first."""
    # One query: same-serial cases first (a serial names one product, so they are in the family), then
    # the most recent open cases of the family.
    same = Case.serial_number == case.serial_number
    candidates = list(db.session.scalars(
        access.visible_cases(actor).join(Product, Case.product_id == Product.id)
        .where(Case.id != case.id, Case.status.in_(OPEN_STATES), Product.family == case.product.family)
        .options(joinedload(Case.partner))
        .order_by(sa.case((same, 0), else_=1), Case.id.desc()).limit(MAX_CANDIDATES)))
    same_serial = [other for other in candidates if other.serial_number == case.serial_number][:MAX_DUPLICATES]
    similarity = _similarities(case, candidates)
    found: dict[int, Duplicate] = {}
    for other in same_serial:
        found[other.id] = Duplicate(other, ["same_serial"], similarity.get(other.id, 0.0))
    for other in candidates:
        score = similarity.get(other.id, 0.0)
        if score < SIMILARITY_THRESHOLD:
            continue
        if other.id in found:
            found[other.id].reasons.append("similar_text")
        else:
            found[other.id] = Duplicate(other, ["similar_text"], score)
    ranked = sorted(found.values(), key=lambda d: (-len(d.reasons), -d.similarity, -d.case.id))
    return ranked[:MAX_DUPLICATES]


def _similarities(case: Case, candidates: list[Case]) -> dict[int, float]:
    query = sorted(set(term_list(_text(case))))
    if not candidates or not query:
        return {}
    corpus = [term_list(_text(case))] + [term_list(_text(other)) for other in candidates]
    import bm25s  # with the first comparison, not in every process

    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    ids = retriever.get_tokens_ids(query)
    if not ids:
        return {}
    scores = retriever.get_scores(ids)
    own = float(scores[0])
    if own <= 0:
        return {}
    return {other.id: round(min(float(scores[i + 1]) / own, 1.0), 3) for i, other in enumerate(candidates)}

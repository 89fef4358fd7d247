"""Evaluating one case against its pinned checklist: pure functions, no database."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.checklists.definitions import CaseFacts, ChecklistDefinition, ItemDefinition

MESSAGES = {
    "not_answered": "Not answered yet.",
    "not_attested": "Not attested yet.",
    "too_short": "The answer is shorter than the {min_length} characters required.",
    "reason_required": "This answer needs a reason.",
    "attachments_missing": "Needs at least {min_count} attachment(s) of kind {kinds}.",
    "rulings_missing": "Rule on every suggested known anomaly ({missing} still open).",
    "not_applicable_to_case": "Does not apply to this case.",
}


@dataclass(frozen=True)
class ResponseView:
    """A stored response as evaluation sees it."""

    value: Any
    not_applicable: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class ItemResult:
    item: ItemDefinition
    applies: bool
    met: bool
    reason: str | None
    message: str
    details: dict = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.applies and self.item.required


@dataclass(frozen=True)
class Evaluation:
    definition: ChecklistDefinition
    results: tuple[ItemResult, ...]

    @property
    def complete(self) -> bool:
        return all(result.met for result in self.results if result.required)

    @property
    def unmet(self) -> list[ItemResult]:
        return [result for result in self.results if result.required and not result.met]


def evaluate(definition: ChecklistDefinition, facts: CaseFacts, responses: dict[str, ResponseView],
             attachment_kinds: dict[int, str], needing_ruling: list[str]) -> Evaluation:
    """Every item with met/unmet and a machine-readable reason.

    attachment_kinds maps the case's attachment ids to their kinds; needing_ruling
    lists the triage suggestions the engineer must rule on.
    """
    results = []
    for item in definition.items:
        if not item.applies_to(facts):
            results.append(_result(item, False, True, "not_applicable_to_case"))
            continue
        results.append(_evaluate_item(item, responses.get(item.code), attachment_kinds, needing_ruling))
    return Evaluation(definition, tuple(results))


def _result(item: ItemDefinition, applies: bool, met: bool, reason: str | None, **details) -> ItemResult:
    message = "Done." if reason is None else MESSAGES[reason].format(**details)
    return ItemResult(item, applies, met, reason, message, details)


def _evaluate_item(item: ItemDefinition, response: ResponseView | None,
                   attachment_kinds: dict[int, str], needing_ruling: list[str]) -> ItemResult:
    if item.kind == "triage_ruling":
        return _evaluate_rulings(item, response, needing_ruling)
    if response is None:
        return _result(item, True, False, "not_attested" if item.kind == "attestation" else "not_answered")
    if response.not_applicable:
        return _result(item, True, True, None)
    if item.kind == "attestation":
        return _result(item, True, response.value is True, None if response.value is True else "not_attested")
    if item.kind == "text":
        if len(str(response.value or "").strip()) < (item.min_length or 1):
            return _result(item, True, False, "too_short", min_length=item.min_length)
        return _result(item, True, True, None)
    if item.kind == "choice":
        if response.value in item.reason_required_for and not (response.reason or "").strip():
            return _result(item, True, False, "reason_required")
        return _result(item, True, True, None)
    if item.kind == "attachments":
        ids = (response.value or {}).get("attachment_ids", [])
        usable = [i for i in ids if attachment_kinds.get(i) in item.attachment_kinds]
        if len(usable) < (item.min_count or 1):
            return _result(item, True, False, "attachments_missing", min_count=item.min_count,
                           kinds=" or ".join(item.attachment_kinds))
        return _result(item, True, True, None)
    raise ValueError(f"unknown item kind {item.kind!r}")


def _evaluate_rulings(item: ItemDefinition, response: ResponseView | None,
                      needing_ruling: list[str]) -> ItemResult:
    # With no suggestions the item is a plain attestation that the release notes were reviewed.
    if not needing_ruling:
        if response is None or response.value in (None, False):
            return _result(item, True, False, "not_attested")
        return _result(item, True, True, None)
    value = response.value if response else None
    ruled = {str(r["anomaly_id"]) for r in value.get("rulings", [])} if isinstance(value, dict) else set()
    missing = [anomaly for anomaly in needing_ruling if str(anomaly) not in ruled]
    if missing:
        return _result(item, True, False, "rulings_missing", missing=", ".join(map(str, missing)))
    return _result(item, True, True, None)

"""What stands between an open case and GTAC, shown on the case page from the moment the case opens.

The blockers are the refusal reasons of the escalation itself (services.refusal_reasons),
each with what the engineer can do about it and where on the page to do it: the page
never keeps a second copy of the rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.accounts.models import User
from app.cases.models import Case
from app.checklists.evaluation import Evaluation
from app.escalation.services import refusal_reasons


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str
    remedy: str
    anchor: str | None = None  # where on the case page it is fixed
    anchor_label: str | None = None
    item: str | None = None
    number: int | None = None  # the checklist item's number (SPEC §4.2)


def blockers(actor: User, case: Case, evaluation: Evaluation | None = None) -> list[Blocker]:
    """Inside the caller's transaction: every reason GTAC would refuse the case now, the ones no checklist
    answer can lift first."""
    reasons = refusal_reasons(actor, case, evaluation)
    return [_blocker(reason, case) for reason in reasons]


def _blocker(reason: dict[str, Any], case: Case) -> Blocker:
    code, message = reason["code"], reason["message"]
    if code == "checklist_item_unmet":
        return Blocker(code, message, "Answer it in the checklist.", f"item-{reason['item']}", "Answer it",
                       reason["item"], reason.get("number"))
    if code == "partner_tier":
        if current_app.config["PW_MAY_ESCALATE_S1"]:
            remedy = ("Escalate only if the network is down (severity S1); otherwise resolve the case with the "
                      "customer, or ask the vendor's partner team about moving up to PartnerWorks Plus.")
            return Blocker(code, message, remedy, "details", "Review the severity")
        return Blocker(code, message, "Resolve the case with the customer, or ask the vendor's partner team "
                                      "about moving up to PartnerWorks Plus.")
    if code == "partner_suspended":
        return Blocker(code, message, "Ask the vendor's partner team to reinstate your organisation; "
                                      "until then the case stays with you.")
    if code in ("certification_missing", "certification_expired"):
        family = reason.get("product_family", case.product.family)
        verb = "Renew" if code == "certification_expired" else "Earn"
        return Blocker(code, message, f"{verb} your {family} certification with the vendor, or have a colleague "
                                      f"certified for {family} escalate the case.")
    if code == "not_entitled":
        return Blocker(code, message, f"Ask {case.customer.name} to renew or extend the contract that covers this "
                                      "serial, or check the serial number against the unit.", "details",
                       "Check the serial number")
    return Blocker(code, message, "")

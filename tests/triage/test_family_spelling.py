"""Product families keep their vendor spelling; routing rules and checklist conditions may name them
in any case, and still apply."""
from __future__ import annotations

from datetime import datetime, timezone

from app.checklists.definitions import CaseFacts, Condition
from app.escalation.policy import Routing, RoutingRule

AT = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)


def test_a_routing_rule_names_a_family_in_any_case():
    routing = Routing((RoutingRule("gtac-exos", product_families=("exos",)), RoutingRule("gtac-general")))
    assert routing.queue_for("EXOS", "S2", None, AT) == "gtac-exos"
    assert routing.queue_for("VOSS", "S2", None, AT) == "gtac-general"


def test_a_checklist_condition_names_a_family_in_any_case():
    condition = Condition(product_families=("Exos",))
    assert condition.holds(CaseFacts(product_family="EXOS", severity="S2", hardware_issue=False, crash=False))
    assert not condition.holds(CaseFacts(product_family="VOSS", severity="S2", hardware_issue=False, crash=False))

"""Tenant rules live in app/access alone.

Outside it, no code reads a caller's organisation or compares a tenant column
(partner_id, customer_id, organisation_id) with something taken from the caller:
such a comparison is a scope of its own, which the access rules no longer see.
Comparisons that are not about the caller stay legitimate: the users of an
organisation to notify, a webhook of the SR's partner, a claim against its payout.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ACCESS = APP / "access"

TENANT_COLUMNS = frozenset({"organisation_id", "partner_id", "customer_id"})
# The names the code gives the signed-in caller: services take `actor`, views read `current_user`.
ACTOR_NAMES = frozenset({"actor", "user", "current_user", "caller", "viewer"})
ACTOR_CALLS = frozenset({"api_user"})
SQL_ORGANISATION = re.compile(r"\borganisation_id\s*(=|<>|!=|\bin\b)", re.IGNORECASE)


def _is_class(node: ast.expr) -> bool:
    """User, models.User: a mapped class, whose attributes are columns rather than a row's values."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name[:1].isupper()


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def _from_actor(node: ast.expr) -> bool:
    """actor.organisation_id, current_user.organisation.id, api_user().organisation_id..."""
    if not isinstance(node, (ast.Attribute, ast.Subscript)):
        return False
    root = _root(node)
    if isinstance(root, ast.Name):
        return root.id in ACTOR_NAMES
    if isinstance(root, ast.Call):
        func = root.func
        return (func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")) in ACTOR_CALLS
    return False


def _tenant_column(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in TENANT_COLUMNS and _is_class(node.value)


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def tenancy_findings(source: str, filename: str = "<source>") -> list[str]:
    """Each place in `source` that builds a tenant rule by hand, as 'file:line: what'."""
    tree = ast.parse(source, filename)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "organisation_id" and not _is_class(node.value):
            # Only a user has an organisation_id: reading a row's is reading a caller's organisation.
            found.append((node.lineno, f"reads {ast.unparse(node)}"))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_tenant_column(side) for side in sides) and any(_from_actor(side) for side in sides):
                found.append((node.lineno, f"compares {ast.unparse(node)}"))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and SQL_ORGANISATION.search(node.value)):
            found.append((node.lineno, f"filters on organisation_id in SQL: {node.value.strip()[:60]!r}"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(set(found))]


def _sources_outside_access() -> list[Path]:
    return sorted(path for path in APP.rglob("*.py") if ACCESS not in path.parents)


def test_no_tenant_rule_outside_the_access_package():
    sources = _sources_outside_access()
    assert len(sources) > 100, "the scan must see the application's modules"
    findings = [finding for path in sources
                for finding in tenancy_findings(path.read_text(), str(path.relative_to(APP.parent)))]
    assert not findings, ("Tenant scopes belong in app/access (ask it: access.get_case, access.visible_claims, "
                          "access.acting_partner...):\n" + "\n".join(findings))


def test_the_access_package_is_where_the_scopes_are():
    # The scan above would be empty for the wrong reason if it could not see a scope at all.
    found = [finding for path in sorted(ACCESS.rglob("*.py")) for finding in tenancy_findings(path.read_text())]
    assert any("reads user.organisation_id" in finding for finding in found)


@pytest.mark.parametrize("planted", [
    # A scope of its own in a service.
    "query = sa.select(Webhook).where(Webhook.partner_id == actor.organisation_id)",
    "rows = session.scalars(select(Claim).filter(Claim.partner_id == current_user.organisation_id))",
    # The same through a helper or a value kept aside.
    "org = actor.organisation_id\nquery = select(Claim).where(Claim.partner_id == org)",
    "query = select(Case).filter_by(customer_id=user.organisation_id)",
    "payee = PayeeAccount(partner_id=actor.organisation_id)",
    # The caller's organisation reached another way.
    "query = select(Case).where(Case.customer_id == actor.organisation.id)",
    "query = select(Webhook).where(models.Webhook.partner_id != api_user().organisation.id)",
    # Raw SQL.
    "rows = session.execute(sa.text('SELECT id FROM cases WHERE partner_id = :p AND organisation_id = :o'))",
])
def test_a_planted_tenant_rule_is_found(planted):
    assert tenancy_findings(planted), planted


@pytest.mark.parametrize("legitimate", [
    # The users of one organisation to notify: the organisation comes from the case, not the caller.
    "emails = select(User.email).where(User.organisation_id == partner_id, User.active.is_(True))",
    # Rows tied to each other, not to the caller.
    "hooks = select(Webhook).where(Webhook.partner_id == sr.partner_id, Webhook.active.is_(True))",
    "odd = select(Claim.id).join(Payout).where(Claim.partner_id != Payout.partner_id)",
    "contracts = select(ServiceContract).where(ServiceContract.customer_id == case.customer_id)",
    # The caller's own id (who did it), not its tenant.
    "mine = select(SR).where(SR.assignee_id == actor.id)",
    # A column declared, a keyword of a row made for someone else, a docstring that explains.
    "organisation_id: Mapped[int] = mapped_column(sa.ForeignKey('organisations.id'))",
    "user = User(name=name, organisation_id=org.id)",
    'def f():\n    """Compares organisation_id = the caller\'s in app.access."""',
])
def test_a_comparison_that_is_not_a_tenant_rule_is_left_alone(legitimate):
    assert tenancy_findings(legitimate) == []

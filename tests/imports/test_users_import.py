"""Users from the vendor's directory, each new one invited through the accounts feature's invite_user.

The accounts feature's invitations are a module of their own; without it there is no users import
and these tests have nothing to test."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db


EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "imports" / "examples"
HEADER = "email,name,organisation,role\n"


def users_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def counts(answer) -> tuple[int, int, int, int]:
    body = answer.get_json()
    body = body["error"]["details"] if "error" in body else body
    return body["added"], body["changed"], body["unchanged"], body["refused"]


def test_new_users_are_invited_once_and_a_second_import_changes_nothing(app, send, rows):
    content = (EXAMPLES / "users.csv").read_bytes()
    first = send("users", content)
    assert first.status_code == 200, first.get_json()
    assert counts(first) == (2, 0, 0, 0)
    with app.app_context():
        sam = db.session.scalars(sa.select(User).filter_by(email="sam.field@northwind.example")).one()
        assert (sam.role.value, sam.organisation.name, sam.password_hash) == \
            ("partner_engineer", "Northwind Networks", None)
    before = rows()
    assert counts(send("users", content)) == (0, 0, 2, 0)
    assert rows() == {**before, "audit_events": before["audit_events"] + 1}


def test_a_later_export_renames_a_user_in_place(app, send):
    assert counts(send("users", users_file("engineer@northwind.example,Nadia Field,Northwind Networks,"
                                           "partner_engineer"))) == (0, 1, 0, 0)
    with app.app_context():
        assert db.session.scalars(sa.select(User.name).filter_by(email="engineer@northwind.example")).one() == \
            "Nadia Field"


BAD = {
    "a role the organisation cannot have": ("x@acme.example,X,Acme Corp,partner_engineer",
                                            "A user of Acme Corp can be customer, not partner_engineer."),
    "an unknown organisation": ("y@nowhere.example,Y,Nowhere Ltd,customer", "unknown organisation 'Nowhere Ltd'"),
    "an unknown role": ("z@acme.example,Z,Acme Corp,owner", "unknown role 'owner' (one of customer, "
                        "partner_engineer, partner_admin, gtac_engineer, gtac_manager, programs, vendor_admin)"),
    "another role for a user": ("admin@northwind.example,Noah Admin,Northwind Networks,partner_engineer",
                                "admin@northwind.example is partner_admin, not partner_engineer: change the role "
                                "on the user's page"),
    "not an e-mail address": ("not-an-address,W,Acme Corp,customer", "email: Not an e-mail address."),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_user_line_refuses_the_file_and_invites_nobody(send, rows, case):
    line, reason = BAD[case]
    before = rows()
    answer = send("users", users_file("ok@acme.example,Ok,Acme Corp,customer", line), "directory.csv")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["details"]["errors"] == [f"directory.csv:3: {reason}"]
    assert rows() == before


def test_a_dry_run_invites_nobody(send, rows):
    before = rows()
    answer = send("users", (EXAMPLES / "users.csv").read_bytes(), dry_run="true")
    assert counts(answer) == (2, 0, 0, 0)
    assert rows() == before

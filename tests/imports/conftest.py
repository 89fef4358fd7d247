"""Imports are the vendor admin's: its bearer token, and the rows of every table to show what changed."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.services import issue_token
from app.extensions import db
from tests.api.conftest import count_rows

VENDOR_ADMIN = "vendor-admin@vendor.example"
HEADER = "contract_number,level,customer,partner,starts_on,ends_on,serial_number,product_model\n"


@pytest.fixture
def vendor_admin(app, demo):
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=VENDOR_ADMIN)).one()
        secret, _ = issue_token(user, "imports")
        db.session.remove()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def rows(app):
    def counts() -> dict[str, int]:
        with app.app_context():
            return count_rows()
    return counts


@pytest.fixture
def send(client, vendor_admin):
    """POST a file's bytes to /api/v1/imports/<kind> as the vendor admin."""
    def post(kind: str, content: bytes, name: str = "upload.csv", headers=None, **query):
        return client.post(f"/api/v1/imports/{kind}", query_string=query, headers=headers or vendor_admin,
                           data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    return post


def contracts_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()

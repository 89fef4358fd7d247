"""Product families and models: a family keeps the vendor's spelling and is one family in any case."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.contracts.models import Product
from app.extensions import db
from tests.administration.helpers import audit_actions, product_id
from tests.api.conftest import assert_error, check_each

PRODUCTS = "/api/v1/admin/products"


def test_a_new_model_joins_its_family_as_the_vendor_spells_it(app, client, tokens):
    answer = client.post(PRODUCTS, json={"family": "exos", "model": "X590-24x", "name": "ExtremeSwitching X590"},
                         headers=tokens["vendor_admin"])
    assert answer.status_code == 201, answer.json
    assert (answer.json["family"], answer.json["model"]) == ("EXOS", "X590-24x")
    listed = client.get(PRODUCTS, headers=tokens["vendor_admin"]).json
    assert [(p["family"], p["model"]) for p in listed] == [
        ("EXOS", "X465-48T"), ("EXOS", "X590-24x"), ("EXOS", "X695-48Y"), ("VOSS", "VSP4900-48P"),
        ("WING", "AP5020")]
    assert audit_actions(app, "product", answer.json["id"]) == [("product.created", "vendor-admin@vendor.example")]


def test_a_new_family_keeps_the_spelling_it_is_given(client, tokens):
    answer = client.post(PRODUCTS, json={"family": "SLX-OS", "model": "SLX 9150", "name": "SLX 9150 router"},
                         headers=tokens["vendor_admin"])
    assert answer.status_code == 201, answer.json
    assert answer.json["family"] == "SLX-OS"


BAD_PRODUCTS = {
    "the same model in another case": ({"family": "EXOS", "model": "x465-48t", "name": "Again"}, 409,
                                       "product_exists"),
    "the same model in a family spelt otherwise": ({"family": "Exos", "model": "X465-48T", "name": "Again"}, 409,
                                                   "product_exists"),
    "no family": ({"model": "X1", "name": "X1"}, 400, "invalid_input"),
    "blank family": ({"family": "  ", "model": "X1", "name": "X1"}, 400, "invalid_input"),
    "family too long": ({"family": "F" * 33, "model": "X1", "name": "X1"}, 400, "invalid_input"),
    "blank model": ({"family": "EXOS", "model": "", "name": "X1"}, 400, "invalid_input"),
    "model with a tab": ({"family": "EXOS", "model": "X\t1", "name": "X1"}, 400, "invalid_input"),
    "model too long": ({"family": "EXOS", "model": "M" * 101, "name": "X1"}, 400, "invalid_input"),
    "no name": ({"family": "EXOS", "model": "X1"}, 400, "invalid_input"),
    "name too long": ({"family": "EXOS", "model": "X1", "name": "N" * 201}, 400, "invalid_input"),
}


def test_bad_products_are_refused_and_change_nothing(client, tokens, row_counts):
    def check(name, body, status, code):
        before = row_counts()
        assert_error(client.post(PRODUCTS, json=body, headers=tokens["vendor_admin"]), status, code)
        assert row_counts() == before

    check_each([(name, *case) for name, case in BAD_PRODUCTS.items()], check)


def test_a_product_is_renamed_and_corrected(app, client, tokens):
    ap = product_id(app, "AP5020")
    answer = client.patch(f"{PRODUCTS}/{ap}", json={"name": "ExtremeWireless AP5020 access point", "model": "AP5020i"},
                          headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    assert (answer.json["family"], answer.json["model"], answer.json["name"]) == (
        "WING", "AP5020i", "ExtremeWireless AP5020 access point")
    assert audit_actions(app, "product", ap) == [("product.updated", "vendor-admin@vendor.example")]
    # Changing only the case of its own model is no duplicate of itself.
    assert client.patch(f"{PRODUCTS}/{ap}", json={"model": "ap5020i"},
                        headers=tokens["vendor_admin"]).json["model"] == "ap5020i"


def test_moving_a_model_into_a_family_that_has_it_is_refused(app, client, tokens, row_counts):
    x695 = product_id(app, "X695-48Y")
    before = row_counts()
    assert_error(client.patch(f"{PRODUCTS}/{x695}", json={"model": "X465-48t"}, headers=tokens["vendor_admin"]),
                 409, "product_exists")
    assert_error(client.patch(f"{PRODUCTS}/{x695}", json={"family": ""}, headers=tokens["vendor_admin"]),
                 400, "invalid_input")
    assert_error(client.patch(f"{PRODUCTS}/424242", json={"name": "X"}, headers=tokens["vendor_admin"]),
                 404, "product_not_found")
    assert row_counts() == before


def test_the_database_refuses_one_model_twice_in_any_case(app, demo):
    """The last line of defence behind the check, on SQLite and PostgreSQL alike."""
    with app.app_context():
        db.session.add(Product(family="exos", model="X465-48t", name="Twice"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 4
        db.session.remove()

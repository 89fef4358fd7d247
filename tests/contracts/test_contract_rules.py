"""The rules a contract and its covered serials are held to, whichever way they arrive."""
from __future__ import annotations

from datetime import date

from app.contracts import rules
from app.contracts.rules import Coverage

ACME, GLOBEX = 1, 2


def cover(number: str, customer: int, starts: str, ends: str) -> Coverage:
    return Coverage(None, number, customer, date.fromisoformat(starts), date.fromisoformat(ends))


def test_only_pw_and_pwp_are_levels():
    assert rules.level_problem("PW") is None
    assert rules.level_problem("PWP") is None
    assert rules.level_problem("pw") == "unknown level 'pw' (PW or PWP)"
    assert rules.level_problem("GOLD") == "unknown level 'GOLD' (PW or PWP)"


def test_a_contract_may_last_one_day_but_not_end_before_it_starts():
    assert rules.period_problem(date(2027, 1, 1), date(2027, 1, 1)) is None
    assert rules.period_problem(date(2027, 1, 2), date(2027, 1, 1)) == \
        "the contract ends (2027-01-01) before it starts (2027-01-02)"


def test_a_serial_on_two_customers_contracts_in_force_the_same_day_is_refused():
    existing = [cover("A-2027", ACME, "2027-01-01", "2027-12-31")]
    problem = rules.coverage_conflict("SN1", cover("G-2027", GLOBEX, "2027-12-31", "2028-12-31"), existing)
    assert problem == ("serial SN1 is already on contract A-2027 of another customer for overlapping dates "
                       "(2027-01-01 to 2027-12-31)")


def test_a_serial_may_move_to_another_customer_once_the_first_contract_ended():
    existing = [cover("A-2027", ACME, "2027-01-01", "2027-12-31")]
    assert rules.coverage_conflict("SN1", cover("G-2028", GLOBEX, "2028-01-01", "2028-12-31"), existing) is None


def test_a_customer_may_renew_or_overlap_its_own_contracts():
    existing = [cover("A-2027", ACME, "2027-01-01", "2027-12-31")]
    assert rules.coverage_conflict("SN1", cover("A-UPGRADE", ACME, "2027-06-01", "2028-05-31"), existing) is None


def test_the_same_contract_never_conflicts_with_itself():
    existing = [cover("A-2027", ACME, "2027-01-01", "2027-12-31")]
    assert rules.coverage_conflict("SN1", cover("A-2027", GLOBEX, "2027-01-01", "2027-12-31"), existing) is None


def test_unknown_and_ambiguous_product_models_are_refused():
    models = {"x465-48t": 1, "ap5020": None}
    assert rules.product_problem("X465-48T", models) is None
    assert rules.product_problem("x465-48T", models) is None
    assert rules.product_problem("X999", models) == "unknown product model 'X999'"
    assert rules.product_problem("AP5020", models) == "product model 'AP5020' names products of more than one family"


def test_numbers_and_serials_must_be_given_and_fit_their_columns():
    assert rules.text_problem("serial_number", "", 64) == "serial_number is empty"
    assert rules.text_problem("serial_number", "S" * 65, 64) == "serial_number is longer than 64 characters"
    assert rules.text_problem("serial_number", "S" * 64, 64) is None

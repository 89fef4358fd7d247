"""Money helpers: exact integer minor units, never floats."""
from __future__ import annotations

import pytest

from app.payments.money import format_amount, is_currency, parse_amount, to_decimal_string
from app.payments.payouts import parse_reference
from app.payments.views import minor_units


@pytest.mark.parametrize("amount, currency, text", [
    (123456, "USD", "1,234.56 USD"), (5, "EUR", "0.05 EUR"), (-250, "USD", "-2.50 USD"),
    (1500, "JPY", "1,500 JPY"), (1234567, "KWD", "1,234.567 KWD"),
])
def test_amounts_are_shown_exactly(amount, currency, text):
    assert format_amount(amount, currency) == text


def test_bank_files_get_major_units_with_a_point():
    assert to_decimal_string(123456, "USD") == "1234.56" and to_decimal_string(7, "EUR") == "0.07"


@pytest.mark.parametrize("text, currency, expected", [
    ("1234.56", "USD", 123456), ("1,000", "EUR", 100000), ("1,234,567.5", "USD", 123456750), ("0.1", "USD", 10),
    ("1500", "JPY", 1500), ("1234.5", "USD", 123450), ("1.234", "KWD", 1234), ("99999999.99", "EUR", 9999999999),
    (" 12.30 ", "USD", 1230)])
def test_typed_amounts_become_minor_units(text, currency, expected):
    assert minor_units(text, currency) == expected


@pytest.mark.parametrize("text, currency", [
    ("0.001", "USD"), ("1.005", "USD"), ("1.5", "JPY"), ("-3", "USD"), ("abc", "USD"), ("", "USD"), ("0", "USD"),
    ("10", "XXX"), ("0x10", "USD"),
    # What Decimal() would take but nobody types as an amount, or types meaning something else.
    ("NaN", "USD"), ("inf", "USD"), ("Infinity", "USD"), ("1e3", "USD"), ("1e309", "USD"), ("1_000", "USD"),
    ("\u0663\u0664", "USD"), ("10,50", "USD"), ("1,00,000", "USD"),
    ("100000000000.01", "USD")])  # over MAX_AMOUNT
def test_amounts_that_are_not_whole_minor_units_are_refused(text, currency):
    with pytest.raises(ValueError):
        minor_units(text, currency)


def test_a_zero_amount_is_taken_only_where_zero_means_something():
    assert minor_units("0.00", "USD", zero=True) == 0 and parse_amount("0", "USD", zero=True) == 0
    with pytest.raises(ValueError):
        parse_amount("0", "USD")


def test_currencies_are_iso_codes_of_real_money():
    assert is_currency("USD") and is_currency("EUR")
    assert not any(is_currency(code) for code in ("usd", "XAU", "XXX", "ZZZ", "US"))


def test_payout_references_parse_only_when_they_could_be_ours():
    assert parse_reference("PO0000000012") == (12, 1)
    assert parse_reference("PO0000000012-3") == (12, 3)
    assert parse_reference("PO9999999999") is None  # beyond the id column
    assert parse_reference("PO12") is None and parse_reference("") is None

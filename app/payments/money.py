"""Currencies and amounts: integer minor units with an ISO 4217 code, never floats."""
from __future__ import annotations

import re

import pycountry

from app.quarters import QUARTER as PERIOD  # claims are for a quarter of a programme

# ISO 4217 minor units that are not 2; every other currency has cents.
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}
# Funds, precious metals and test codes are not money a partner is paid in.
_NOT_PAYABLE = {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
# Far above any claim, far below 2**63: sums of many amounts cannot overflow a BIGINT.
MAX_AMOUNT = 10**13
# An amount as people type it: ASCII digits, a decimal point, thousands grouped by commas or not at all
# ("10,50" is not ten and a half, nor 1,050).
_AMOUNT = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?\Z")


def is_currency(code: str) -> bool:
    """An ISO 4217 code of a real currency, in upper case."""
    return (isinstance(code, str) and len(code) == 3 and code.isupper()
            and code not in _NOT_PAYABLE and pycountry.currencies.get(alpha_3=code) is not None)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def parse_amount(text: str, currency: str, *, zero: bool = False) -> int:
    """'1,234.56' in USD -> 123456, exactly; ValueError saying why for anything else: not a plain
    decimal number, more decimals than the currency has, over MAX_AMOUNT, or 0 unless `zero`."""
    text = text.strip()
    if text.startswith("-"):
        raise ValueError(f"negative amount {text!r}")
    if not _AMOUNT.match(text):
        raise ValueError(f"amount {text!r} is not a decimal number")
    digits = exponent(currency)
    whole, _, fraction = text.replace(",", "").partition(".")
    if len(fraction.rstrip("0")) > digits:
        raise ValueError(f"amount {text!r} has more than {digits} decimals for {currency}")
    value = int(whole + fraction.ljust(digits, "0")[:digits])
    if value > MAX_AMOUNT:
        raise ValueError(f"amount {text!r} is too large")
    if value == 0 and not zero:
        raise ValueError("the amount must be more than 0")
    return value


def format_amount(amount: int, currency: str) -> str:
    """'1,234.56 USD' from 123456 and 'USD', exactly (integer arithmetic)."""
    digits = exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    text = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    return f"{sign}{text} {currency}"


def to_decimal_string(amount: int, currency: str) -> str:
    """'1234.56' for bank files, which want major units with a decimal point."""
    digits = exponent(currency)
    whole, fraction = divmod(amount, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)

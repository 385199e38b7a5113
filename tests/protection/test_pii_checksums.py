"""Check digits and numbering rules accept real identifiers and reject near misses."""

from __future__ import annotations

import pytest

from ztai.protection.pii_checksums import (
    is_card_number,
    is_iban,
    is_luhn_valid,
    is_uk_nino,
    is_us_itin,
    is_us_ssn,
)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("79927398713", True), ("79927398710", False), ("0", True), ("", False), ("18", True)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert is_luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),  # Visa test number
        ("5500005555555559", True),  # Mastercard
        ("378282246310005", True),  # Amex
        ("6011111111111117", True),  # Discover
        ("4111111111111112", False),  # Luhn fails
        ("1234567812345670", False),  # Luhn passes, no network starts with 1
        ("0000000000000000", False),  # one repeated digit
        ("411111111111", False),  # 12 digits: too short
    ],
)
def test_card_numbers(digits: str, valid: bool) -> None:
    assert is_card_number(digits) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82WEST12345698765432", True),
        ("DE89370400440532013000", True),
        ("NO9386011117947", True),
        ("GB82WEST12345698765433", False),  # check digits wrong
        ("DE8937040044053201300", False),  # one character short for DE
        ("XX82WEST12345698765432", False),  # no such country
        ("GB82WEST1234569876543!", False),
    ],
)
def test_iban(iban: str, valid: bool) -> None:
    assert is_iban(iban) is valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("205464452", True),
        ("000123456", False),  # area 000
        ("666123456", False),  # area 666
        ("912701234", False),  # 9XX areas are ITINs
        ("123001234", False),  # group 00
        ("123450000", False),  # serial 0000
        ("078051120", False),  # the Woolworth wallet number
        ("12345678", False),
    ],
)
def test_us_ssn(digits: str, valid: bool) -> None:
    assert is_us_ssn(digits) is valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("912701234", True), ("900501234", True), ("912931234", False), ("812701234", False)],
)
def test_us_itin(digits: str, valid: bool) -> None:
    assert is_us_itin(digits) is valid


@pytest.mark.parametrize(
    ("nino", "valid"), [("AB123456C", True), ("GB123456A", False), ("AB12345C", False)]
)
def test_uk_nino(nino: str, valid: bool) -> None:
    assert is_uk_nino(nino) is valid

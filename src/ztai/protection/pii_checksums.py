"""Check digits and numbering rules that separate real identifiers from look-alike numbers:
Luhn (payment cards), ISO 13616 mod-97 with per-country lengths (IBAN), US SSN/ITIN and UK NINO
allocation rules. Pure functions over compact strings (separators already removed)."""

from __future__ import annotations

from types import MappingProxyType

# IBAN length per country (SWIFT IBAN registry).
IBAN_LENGTHS = MappingProxyType(
    {
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
        "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
        "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
        "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
        "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
        "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
        "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
        "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
        "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
        "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
        "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
        "YE": 30,
    }
)  # fmt: skip

# Issuer prefixes of the major card networks: Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro. A Luhn-valid number outside them is more likely an account or order number.
_CARD_PREFIXES = ("4", "5", "2", "34", "37", "6", "35", "30", "36", "38", "39")
_SSN_ADVERTISING = frozenset({"078051120", "219099999", "123456789"})
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def is_luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return bool(digits) and total % 10 == 0


def is_card_number(digits: str) -> bool:
    """A 13-19 digit number of a card network's prefix, not one repeated digit, passing Luhn."""
    return (
        13 <= len(digits) <= 19
        and digits.startswith(_CARD_PREFIXES)
        and len(set(digits)) > 1
        and is_luhn_valid(digits)
    )


def is_iban(compact: str) -> bool:
    """An upper-case IBAN of its country's length whose mod-97 remainder is 1."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def is_us_ssn(digits: str) -> bool:
    """SSA rules: area not 000, 666 or 900-999 (those are ITINs); group and serial not zero."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        len(digits) == 9
        and area not in {"000", "666"}
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and digits not in _SSN_ADVERTISING
        and len(set(digits)) > 1
    )


def is_us_itin(digits: str) -> bool:
    """IRS rules: 9XX area and a group of 50-65, 70-88, 90-92 or 94-99."""
    if len(digits) != 9 or not digits.startswith("9"):
        return False
    group = int(digits[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


def is_uk_nino(compact: str) -> bool:
    """HMRC rules on the two-letter prefix (the pattern already restricts single letters)."""
    return len(compact) == 9 and compact[:2] not in _NINO_BAD_PREFIXES

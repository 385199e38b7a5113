"""Each pattern detector on its own: table-driven positives (the exact span found) and hard
negatives (look-alikes that must not match)."""

from __future__ import annotations

import pytest

from ztai.protection.interface import Detector
from ztai.protection.pii_address import StreetAddressDetector
from ztai.protection.pii_ids import (
    CreditCardDetector,
    IbanDetector,
    UkNinoDetector,
    UsItinDetector,
    UsSsnDetector,
)
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_net import EmailDetector, IpAddressDetector
from ztai.protection.pii_phone import PhoneDetector

DETECTORS: dict[str, Detector] = {
    "email": EmailDetector(),
    "card": CreditCardDetector(),
    "iban": IbanDetector(),
    "ssn": UsSsnDetector(),
    "itin": UsItinDetector(),
    "nino": UkNinoDetector(),
    "ip": IpAddressDetector(),
    "phone": PhoneDetector(),
    "address": StreetAddressDetector(),
}

POSITIVES = [
    ("email", "write to jane.doe+tag@mail.example.co.uk today", "jane.doe+tag@mail.example.co.uk"),
    ("email", "TristanBouvier@einrot.com.", "TristanBouvier@einrot.com"),
    ("card", "card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("card", "pay with 5500-0055-5555-5559.", "5500-0055-5555-5559"),
    ("card", "amex 378282246310005", "378282246310005"),
    ("iban", "IBAN: GB82 WEST 1234 5698 7654 32 thanks", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "to de89370400440532013000.", "de89370400440532013000"),
    ("ssn", "SSN 205-46-4452 on file", "205-46-4452"),
    ("ssn", "my social security number is 205464452", "205464452"),
    ("itin", "ITIN 912-70-1234", "912-70-1234"),
    ("nino", "NI number AB 12 34 56 C.", "AB 12 34 56 C"),
    ("ip", "from 192.168.10.254, again", "192.168.10.254"),
    ("ip", "host 2001:db8:85a3::8a2e:370:7334 down", "2001:db8:85a3::8a2e:370:7334"),
    ("phone", "call +1-202-555-0143 now", "+1-202-555-0143"),
    ("phone", "call (415) 555-2671 x123 now", "(415) 555-2671 x123"),
    ("phone", "Tel. 030 901820", "030 901820"),
    ("phone", "ring +44 20 7946 0958", "+44 20 7946 0958"),
    ("address", "at 221 Baker Street, London today", "221 Baker Street, London"),
    ("address", "send it to 12 Rue de Rivoli, Paris 75001", "12 Rue de Rivoli, Paris 75001"),
    ("address", "lives at Hauptstraße 5, Berlin", "Hauptstraße 5, Berlin"),
    ("address", "P.O. Box 1234\nAnchorage, AK 99501", "P.O. Box 1234\nAnchorage, AK 99501"),
    ("address", "1600 Pennsylvania Avenue NW", "1600 Pennsylvania Avenue"),
    ("address", "My zip code is 98547", "98547"),
    ("address", "USNS Mercy\nFPO AP 96678", "USNS Mercy\nFPO AP 96678"),
    ("address", "5 Jakobi 69, Laane is home", "5 Jakobi 69, Laane"),
]


@pytest.mark.parametrize(("detector", "text", "expected"), POSITIVES)
def test_finds_exactly(detector: str, text: str, expected: str) -> None:
    found = [text[m.start : m.end] for m in DETECTORS[detector].detect(text)]
    assert found == [expected]


NEGATIVES = [
    ("email", "user@localhost, a@b, @handle, name@.com"),
    ("card", "4111 1111 1111 1112 and order 1234567812345670"),
    ("card", "tracking 0000 0000 0000 0000"),
    ("iban", "GB82 WEST 1234 5698 7654 33 and XX82WEST12345698765432"),
    ("iban", "ref AB12CDEF34567890"),
    ("ssn", "000-12-3456, 666-12-3456, 123-00-4567, 123-45-0000"),
    ("ssn", "order 205464452 shipped"),  # bare nine digits need "SSN" before them
    ("ssn", "call 1-205-46-4452-0"),
    ("itin", "912-93-1234 is out of range"),
    ("nino", "GB 12 34 56 A and ab 12 34 56 c"),
    ("ip", "version 1.2.3.4.5, 999.1.1.1, std::vector, a::b, 12:30:45"),
    ("phone", "on 2000-10-12 and 6/28/1939 at 14:30:00"),
    ("phone", "12345"),
    ("address", "I have 3 Windows 10 machines and 2 big dogs"),
    ("address", "The Thai place downtown is on Main Street."),
]


@pytest.mark.parametrize(("detector", "text"), NEGATIVES)
def test_stays_silent(detector: str, text: str) -> None:
    assert DETECTORS[detector].detect(text) == []


@pytest.mark.parametrize(
    ("value", "score"),
    [
        ("+1-202-555-0143", 1.0),  # valid number
        ("(311)905-4466x8827", 0.6),  # only possible, but written as a phone number
        ("1234 5678", 0.5),  # bare eight digits valid somewhere: weak
        ("311-905-4466", 0.6),
        ("2000-10-12", 0.0),  # a date
        ("1706.03762", 0.0),  # a decimal or a reference (an arXiv id here)
        ("3.14159265", 0.0),
        ("2008-2013", 0.0),  # a range of years
        ("555.0100", 0.5),  # a local number written with a dot stays one
    ],
)
def test_phone_scores(value: str, score: float) -> None:
    assert PhoneDetector().score(value) == score


def test_phone_regions_are_configurable() -> None:
    number = "030 901820"  # a Berlin number, not valid in the US
    assert [m.kind for m in PhoneDetector(["DE"]).detect(number)] == [PiiKind.PHONE]
    assert PhoneDetector(["US"]).detect(number) == []


@pytest.mark.parametrize("detector", sorted(DETECTORS))
def test_kinds_and_names(detector: str) -> None:
    found = DETECTORS[detector].detect(dict((d, t) for d, t, _ in POSITIVES)[detector])
    assert all(m.detector == DETECTORS[detector].name for m in found)
    assert all(m.kind in set(PiiKind) for m in found)


@pytest.mark.parametrize("detector", sorted(DETECTORS))
def test_lone_surrogates_do_not_break_a_detector(detector: str) -> None:
    text = "\ud800 jane@example.com 4111 1111 1111 1111 \udfff"
    for match in DETECTORS[detector].detect(text):
        assert 0 <= match.start < match.end <= len(text)


def test_unparseable_phone_candidates_score_zero() -> None:
    assert PhoneDetector().score("+0 000 0000") == 0.0

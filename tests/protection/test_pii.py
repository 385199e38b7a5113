"""The PII detector as the gateway uses it: one call, spans on the original text whatever
Unicode tricks it carries, overlaps settled, silence on hard negatives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ztai.protection.model import Match
from ztai.protection.pii import PiiDetector, default_pii_detector
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_overlaps import resolve

FIXTURES = Path(__file__).parent / "fixtures" / "pii"


@pytest.fixture(scope="module")
def pii() -> PiiDetector:
    return default_pii_detector()


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in detector.detect(text)]


def test_one_call_finds_every_kind(pii: PiiDetector) -> None:
    text = (
        "Hi, I am Dr. Jane Müller (jane.mueller@example.de), SSN 205-46-4452, card "
        "4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, NI AB 12 34 56 C. "
        "I live at 12 Baker Street, London. Call +44 20 7946 0958 from 10.0.0.1."
    )
    assert found(pii, text) == [
        (PiiKind.PERSON, "Jane Müller"),
        (PiiKind.EMAIL, "jane.mueller@example.de"),
        (PiiKind.US_SSN, "205-46-4452"),
        (PiiKind.CREDIT_CARD, "4111 1111 1111 1111"),
        (PiiKind.IBAN, "GB82 WEST 1234 5698 7654 32"),
        (PiiKind.UK_NINO, "AB 12 34 56 C"),
        (PiiKind.STREET_ADDRESS, "12 Baker Street, London"),
        (PiiKind.LOCATION, "London"),
        (PiiKind.PHONE, "+44 20 7946 0958"),
        (PiiKind.IP_ADDRESS, "10.0.0.1"),
    ]


@pytest.mark.parametrize(
    ("text", "kind", "covered"),
    [
        ("mail j\u200bane@exam\u200bple.com", PiiKind.EMAIL, "j\u200bane@exam\u200bple.com"),
        (
            "card ４１１１ １１１１ １１１１ １１１１",
            PiiKind.CREDIT_CARD,
            "４１１１ １１１１ １１１１ １１１１",
        ),
        ("ssn 205\u201146\u20114452", PiiKind.US_SSN, "205\u201146\u20114452"),
        ("ip 10\u200c.0.0.1", PiiKind.IP_ADDRESS, "10\u200c.0.0.1"),
        ("\u202ejane@example.com\u202c", PiiKind.EMAIL, "jane@example.com"),
    ],
)
def test_evasions_are_normalised_and_mapped_back(
    pii: PiiDetector, text: str, kind: PiiKind, covered: str
) -> None:
    assert found(pii, text) == [(kind, covered)]


def test_checked_identifiers_beat_look_alikes(pii: PiiDetector) -> None:
    # a valid SSN is also a plausible phone number; a card number holds many
    assert found(pii, "205-46-4452 / 4111111111111111") == [
        (PiiKind.US_SSN, "205-46-4452"),
        (PiiKind.CREDIT_CARD, "4111111111111111"),
    ]


def test_a_person_named_street_is_the_street(pii: PiiDetector) -> None:
    text = "Send it to 40 Rue Victor Hugo, Lyon."
    assert (PiiKind.PERSON, "Victor Hugo") not in found(pii, text)


def test_overlaps_keep_the_higher_rank_and_equal_ranks_both() -> None:
    matches = [
        Match(PiiKind.PHONE, 0, 11),
        Match(PiiKind.US_SSN, 0, 11),
        Match(PiiKind.STREET_ADDRESS, 20, 40),
        Match(PiiKind.LOCATION, 30, 36),
        Match(PiiKind.PERSON, 22, 28),
        Match(PiiKind.LOCATION, 30, 36),
        Match("term.obsidian", 0, 5),
    ]
    assert resolve(matches) == [
        Match("term.obsidian", 0, 5),
        Match(PiiKind.US_SSN, 0, 11),
        Match(PiiKind.STREET_ADDRESS, 20, 40),
        Match(PiiKind.LOCATION, 30, 36),
    ]


def test_hard_negatives_stay_silent(pii: PiiDetector) -> None:
    lines = (FIXTURES / "hard_negatives.jsonl").read_text("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    noisy = {
        row["text"]: found(pii, row["text"])
        for row in rows
        if any(m.score > 0.5 for m in pii.detect(row["text"]))
    }
    assert noisy == {}


def test_weak_findings_are_marked_weak(pii: PiiDetector) -> None:
    text = "Invoice total: 1234 5678 EUR"  # valid as a local number somewhere, but bare
    assert [(m.kind, m.score) for m in pii.detect(text)] == [(PiiKind.PHONE, 0.5)]


@pytest.mark.parametrize(
    "text", ["", " ", "\u200b" * 50, "é" * 3, "\U0001f600 \ud800", "(" * 200, "a@" * 300]
)
def test_never_raises(pii: PiiDetector, text: str) -> None:
    for match in pii.detect(text):
        assert 0 <= match.start < match.end <= len(text)

"""Fingerprints: a registered document is recognised when pasted whole or in part, however it
is re-spaced or re-cased, and not for a common phrase or an unrelated text."""

from __future__ import annotations

import pytest

from ztai.protection.fingerprint import FingerprintIndex, words

OBSIDIAN = (
    "Project Obsidian is our next-generation battery chemistry programme. The pilot line in "
    "Rotterdam will start production in the third quarter, targeting an energy density of 410 "
    "watt-hours per kilogram. Partners must not learn the cathode supplier before the signing. "
    "Budget for the first phase is forty-two million euros, approved by the board in March."
)
UNRELATED = (
    "The quarterly newsletter covers the office move, the new coffee machine, the summer party "
    "schedule and a reminder to submit expense reports before the end of the month please."
)


@pytest.fixture
def index() -> FingerprintIndex:
    fingerprints = FingerprintIndex()
    assert fingerprints.add("obsidian-plan", OBSIDIAN, "Confidential") > 0
    fingerprints.add("newsletter", UNRELATED, "General")
    return fingerprints


@pytest.mark.parametrize("pasted", [
    OBSIDIAN,
    "Please summarise: " + OBSIDIAN[40:260] + " Thanks!",
    OBSIDIAN.upper().replace(" ", "   ").replace(",", " ,"),
    "Here is part of it:\n" + OBSIDIAN[100:330],
])
def test_pasted_documents_are_recognised(index: FingerprintIndex, pasted: str) -> None:
    found = index.find(pasted)
    assert [m.document for m in found][:1] == ["obsidian-plan"]
    assert found[0].label == "Confidential"
    span = pasted[found[0].start:found[0].end]
    assert len(words(span)) >= 8


@pytest.mark.parametrize("text", [
    "Tell me about Project Obsidian.",                     # the name alone is a term, not a paste
    "The pilot line will start production in the third quarter.",
    "Write a poem about batteries and kilograms.",
    "",
])
def test_short_or_unrelated_texts_do_not_match(index: FingerprintIndex, text: str) -> None:
    assert [m.document for m in index.find(text)] == []


def test_remove_and_replace(index: FingerprintIndex) -> None:
    assert index.remove("obsidian-plan")
    assert index.find(OBSIDIAN) == []
    assert not index.remove("obsidian-plan")
    index.add("newsletter", OBSIDIAN)  # replacing a document forgets its old text
    assert [m.document for m in index.find(UNRELATED)] == []
    assert [m.document for m in index.find(OBSIDIAN)] == ["newsletter"]


def test_detect_reports_matches_without_text(index: FingerprintIndex) -> None:
    (match,) = index.detect("copy: " + OBSIDIAN)
    assert match.kind == "fingerprint.match"
    assert match.detector == "fingerprint:obsidian-plan"
    assert 0 < match.score <= 1

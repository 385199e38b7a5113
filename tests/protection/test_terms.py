"""Custom sensitive terms: whole words, any case, through Unicode tricks, one kind per term."""

from __future__ import annotations

import pytest

from ztai.protection.terms import EmptyTermListError, TermDetector, slugify


@pytest.fixture(scope="module")
def terms() -> TermDetector:
    return TermDetector.from_phrases(["Project Obsidian", "Obsidian", "ACME corp"])


def found(detector: TermDetector, text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in detector.detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status of PROJECT OBSIDIAN?", [("term.project-obsidian", "PROJECT OBSIDIAN"),
                                         ("term.obsidian", "OBSIDIAN")]),
        ("project  obsidian", [("term.project-obsidian", "project  obsidian"),
                               ("term.obsidian", "obsidian")]),
        ("Acme\nCorp.", [("term.acme-corp", "Acme\nCorp")]),
        ("obs\u200bidian", [("term.obsidian", "obs\u200bidian")]),
        ("Ｏｂｓｉｄｉａｎ", [("term.obsidian", "Ｏｂｓｉｄｉａｎ")]),
        ("(obsidian)", [("term.obsidian", "obsidian")]),
    ],
)  # fmt: skip
def test_finds(terms: TermDetector, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(terms, text) == expected


@pytest.mark.parametrize("text", ["Obsidians", "preobsidian", "project obsidia", "acmecorp", ""])
def test_whole_words_only(terms: TermDetector, text: str) -> None:
    assert found(terms, text) == []


def test_groups_share_a_kind() -> None:
    detector = TermDetector.from_groups({"customers": ["Globex", "Initech"]})
    assert found(detector, "Globex and initech") == [
        ("term.customers", "Globex"),
        ("term.customers", "initech"),
    ]


@pytest.mark.parametrize(("phrase", "slug"), [("Project Obsidian", "project-obsidian"),
                                              ("  C++ / Rust!  ", "c-rust")])  # fmt: skip
def test_slugify(phrase: str, slug: str) -> None:
    assert slugify(phrase) == slug


@pytest.mark.parametrize("phrases", [[], ["", "  ", "\u200b"]])
def test_no_terms_is_an_error(phrases: list[str]) -> None:
    with pytest.raises(EmptyTermListError):
        TermDetector.from_phrases(phrases)

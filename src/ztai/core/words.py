"""Word-level helpers shared by capabilities that may not import each other: common English
words (``data/common_words.txt``, derived for ztai: see ``ztai/protection/data/
pii_PROVENANCE.md``), used by the person-name detector and by the prompt shield reading Pig
Latin back, read once on first use; and a cheap test for text spelled out, used by the
encoded-data detector and by the shield."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources


@cache
def common_words() -> frozenset[str]:
    """About 17,000 lower-case words, single words only."""
    text = resources.files("ztai.core").joinpath("data", "common_words.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


_WHITE = b" \t\n\r\x0b\x0c"
SEPARATORS = b"-.,|_*"
# white space to " ", a separator to "s", every other byte to "a"
_CLASSES = bytes(ord(" ") if b in _WHITE else ord("s") if b in SEPARATORS else ord("a")
                 for b in range(256))
# after a space (the text is padded with one): three characters alone, apart by one to three
# spaces; or eight characters, each from the next by a separator (and up to three spaces) or by
# one or two spaces. No unbounded repetition: at most 37 bytes are tried from each start, so
# the search is linear in the text (Python's ``re`` backtracks, but only within that bound).
_MAY_SPELL = re.compile(rb" [as](?: {1,3}[as] {1,3}[as] |(?:s {0,3}[as]| {1,2}[as]){7})")


def may_spell(data: bytes) -> bool:
    """Whether ``data`` (a text as ASCII bytes, one byte per character) may hold characters
    spelled out, as the encoded-data detector and the shield read them: three one-character
    words in a row (apart by one to three spaces, or lines), or eight characters joined by
    one of ``SEPARATORS`` (up to three spaces after it) or by one or two spaces — any separator
    standing for any other, so more texts pass than those patterns read (a necessary
    condition, not a sufficient one: their patterns then find the runs). One byte translation
    and one search by Python's ``re`` at C speed, without letting go of the interpreter (an
    RE2 call would, and in the gateway the audit writer thread then takes it)."""
    return _MAY_SPELL.search(b" " + data.translate(_CLASSES) + b" ") is not None

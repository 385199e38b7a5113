"""Word-level helpers shared by capabilities that may not import each other: common English
words (``data/common_words.txt``, derived for ztai: see ``ztai/protection/data/
pii_PROVENANCE.md``), used by the person-name detector and by the prompt shield reading Pig
Latin back, read once on first use; and a cheap test for text spelled out, used by the
encoded-data detector and by the shield."""

from __future__ import annotations

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
# white space to " ", every other byte to "a": a character alone between spaces is " a "
_TOKENS = bytes(ord(" ") if b in _WHITE else ord("a") for b in range(256))
SEPARATORS = b"-.,|_*"
_BYTE = {sep: bytes((sep,)) for sep in SEPARATORS}
# one separator to "s", every other byte to "a": characters joined by it read "asasa"
_JOINED = {sep: bytes(ord("s") if b == sep else ord("a") for b in range(256))
           for sep in SEPARATORS}


def may_spell(data: bytes, joined: int) -> bool:
    """Whether ``data`` (a text as ASCII bytes, one byte per character) may hold characters
    spelled out: three one-character words in a row (apart by one to three spaces, or lines),
    or ``joined`` characters joined by one of ``SEPARATORS`` (every other character that
    separator). Told by byte translation and substring searches, at C speed and without
    letting go of the interpreter (an RE2 call would, and in the gateway the audit writer
    thread then takes it). A necessary condition, not a sufficient one: a pattern then finds
    the runs."""
    spaced = b" " + data.translate(_TOKENS).replace(b"   ", b" ").replace(b"  ", b" ") + b" "
    if b" a a a " in spaced:
        return True
    pattern = b"as" * (joined - 1)  # ends with the rarer byte: the search skips along
    for sep, table in _JOINED.items():
        if data.count(_BYTE[sep]) >= joined - 1 and pattern in data.translate(table):
            return True
    return False

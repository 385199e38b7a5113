"""The scan shared by the pattern-based PII detectors: RE2 finds candidates in one linear pass,
a Python check accepts or rejects each one, and digits glued to a candidate disqualify it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import re2

from ztai.protection.model import Match
from ztai.protection.offsets import char_offsets

Check = Callable[[str], bool]
_MAX_MEM = 64 << 20  # RE2's default 8 MiB is too small for patterns over Unicode classes
# Through these a candidate continues into a longer number ("1.2.3.4.5", "123-45-6789-0"); a
# letter after a hyphen does not count ("555-1234-Office").
_JOINERS = frozenset("-./:,")
DIGITS = "0123456789"  # what RE2's \d matches


def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile with RE2: linear time, no backtracking, whatever the input."""
    options = re2.Options()
    options.max_mem = _MAX_MEM
    return re2.compile(pattern, options)


def scan(pattern: re2._Regexp, text: str) -> Iterator[tuple[int, int]]:
    """Spans of the pattern's first group when it took part in the match (a pattern marks the
    part it reports that way), else of the whole match."""
    data = utf8(text)
    grouped = pattern.groups > 0
    spans = [_reported(found, grouped) for found in pattern.finditer(data)]
    if len(data) == len(text):  # ASCII: RE2's byte offsets are character offsets
        return iter(spans)
    chars = char_offsets(data, {offset for span in spans for offset in span})
    return ((chars[start], chars[end]) for start, end in spans)


def utf8(text: str) -> bytes:
    """``text`` in UTF-8 for RE2; lone surrogates (JSON can carry them) become U+FFFD, one
    character for one, so character offsets stay those of ``text``."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return without_surrogates(text).encode("utf-8")


def compile_set(patterns: Sequence[str], *, literal: bool = False) -> re2.Set:
    """One RE2 pass that tells which of ``patterns`` (``literal``: plain strings) match
    anywhere in a text (linear time)."""
    options = re2.Options()
    options.max_mem = _MAX_MEM
    options.literal = literal
    found = re2.Set.SearchSet(options)
    for pattern in patterns:
        found.Add(pattern)
    found.Compile()
    return found


def _reported(found: Any, grouped: bool) -> tuple[int, int]:
    start, end = found.span(1) if grouped else (-1, -1)
    return (start, end) if start >= 0 else found.span()


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: one character for one."""
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def is_isolated(text: str, start: int, end: int) -> bool:
    """Not glued to letters or digits, nor through a joiner to more of a longer token."""
    return not (_touches(text, start - 1, start - 2) or _touches(text, end, end + 1))


def _touches(text: str, near: int, far: int) -> bool:
    if near < 0 or near >= len(text):
        return False
    char = text[near]
    if char.isalnum():
        return True
    return char in _JOINERS and 0 <= far < len(text) and text[far].isdigit()


def find(kind: str, name: str, pattern: re2._Regexp, text: str, check: Check) -> list[Match]:
    """Isolated candidates whose text passes ``check``."""
    return [
        Match(kind, start, end, 1.0, name)
        for start, end in scan(pattern, text)
        if is_isolated(text, start, end) and check(text[start:end])
    ]


def has_digit(text: str) -> bool:
    """Whether an ASCII digit occurs: RE2's ``\\d``, which every numbered identifier needs."""
    return holds_any(text, DIGITS)


def holds_any(text: str, chars: str) -> bool:
    """Whether one of ``chars`` occurs in ``text`` (a C-speed search for each)."""
    return any(map(text.__contains__, chars))


def has_upper(text: str) -> bool:
    """``any(char.isupper() for char in text)``, without a Python loop over ASCII text or text
    with no capital."""
    if text.isascii():
        return text.lower() != text
    if text.islower():  # every cased character is lower case
        return False
    return any(char.isupper() for char in text)


def compact(value: str) -> str:
    """The letters and digits of ``value``, upper-cased: separators dropped before a check."""
    return "".join(char for char in value if char.isalnum()).upper()

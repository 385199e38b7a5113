"""The text the secret scanners share: encoded to UTF-8 once, scanned as bytes by RE2, and
byte spans turned back into the character spans a ``Match`` reports, in one sorted pass."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ztai.protection.model import Match
from ztai.protection.offsets import char_offsets


@dataclass(frozen=True, slots=True)
class ScanText:
    """``data`` is ``text`` in UTF-8; a lone surrogate becomes one ``?`` so each character still
    starts exactly one byte sequence (encoding never fails)."""

    text: str
    data: bytes

    @classmethod
    def of(cls, text: str) -> ScanText:
        return cls(text, text.encode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class ByteMatch:
    """A finding in byte offsets of ``ScanText.data``, before conversion to a ``Match``."""

    kind: str
    start: int
    end: int
    score: float
    detector: str


class ByteScanner(Protocol):
    """One source of secret findings (the gitleaks rules, a built-in format)."""

    def scan(self, text: ScanText) -> list[ByteMatch]: ...


def shannon_entropy(value: str) -> float:
    """Bits per character, as gitleaks computes it (0 for the empty string)."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def to_matches(scan: ScanText, found: Sequence[ByteMatch]) -> list[Match]:
    """Character-offset matches, sorted by start; linear in the text plus the offsets."""
    if len(scan.data) == len(scan.text):  # pure ASCII: bytes are characters
        chars = {offset: offset for m in found for offset in (m.start, m.end)}
    else:
        chars = char_offsets(scan.data, {o for m in found for o in (m.start, m.end)})
    matches = (Match(m.kind, chars[m.start], chars[m.end], m.score, m.detector) for m in found)
    return sorted(matches, key=lambda m: (m.start, m.end, m.kind))



"""Custom sensitive terms (code names such as "Project Obsidian", customer lists): one
Aho-Corasick automaton over every phrase, matched case-insensitively on whole words of the
normalised text, reported as ``term.<slug>`` on the original text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ahocorasick

from ztai.protection.model import Match
from ztai.protection.normalize import Normalizer, normalize


class EmptyTermListError(ValueError):
    """A term detector needs at least one non-blank phrase."""


def slugify(phrase: str) -> str:
    """``"Project Obsidian"`` -> ``"project-obsidian"``: lower-case words joined by dashes."""
    words = "".join(c if c.isalnum() else " " for c in fold(phrase)).split()
    return "-".join(words)


def fold(text: str) -> str:
    """Lower-case and whitespace-to-space, one character for one, so offsets are unchanged."""
    return "".join(_fold_char(c) for c in text)


def _fold_char(char: str) -> str:
    if char.isspace():
        return " "
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


class TermDetector:
    """Build with :meth:`from_phrases` or :meth:`from_groups`, once, at start."""

    name = "terms"
    __slots__ = ("_automaton", "_normalizer")

    def __init__(self, automaton: Any) -> None:
        """``automaton``: a finalised ``ahocorasick.Automaton`` whose values are
        ``(length, kind)``; never modified afterwards."""
        self._automaton = automaton
        self._normalizer = Normalizer()

    @classmethod
    def from_phrases(cls, phrases: Iterable[str]) -> TermDetector:
        """Each phrase is its own kind, ``term.<slug of the phrase>``."""
        return cls.from_groups({slugify(p): [p] for p in phrases if slugify(p)})

    @classmethod
    def from_groups(cls, groups: Mapping[str, Sequence[str]]) -> TermDetector:
        """Phrases grouped under one slug each (``{"customers": ["Acme", "Globex"]}``).
        Raises :class:`EmptyTermListError` when no phrase is left after normalising."""
        automaton = ahocorasick.Automaton()
        for slug, phrases in groups.items():
            for phrase in phrases:
                key = _collapse_spaces(fold(normalize(phrase).text).strip())[0]
                if key:
                    automaton.add_word(key, (len(key), f"term.{slug}"))
        if not len(automaton):
            raise EmptyTermListError("no terms to match")
        automaton.make_automaton()
        return cls(automaton)

    def detect(self, text: str) -> list[Match]:
        """Whole-word occurrences, overlapping ones included; linear in ``len(text)`` plus
        the number of matches."""
        normalized = self._normalizer.normalize(text)
        haystack, origin = _collapse_spaces(fold(normalized.text))
        found = []
        for last, (length, kind) in self._automaton.iter(haystack):
            start, end = last + 1 - length, last + 1
            if _is_whole_word(haystack, start, end):
                span = normalized.span(origin[start], origin[end - 1] + 1)
                found.append(Match(kind, *span, 1.0, self.name))
        return found


def _collapse_spaces(text: str) -> tuple[str, list[int]]:
    """Runs of spaces become one, so "Project  Obsidian" still matches; ``origin[i]`` is the
    position in ``text`` of the kept character ``i``."""
    origin = [i for i, c in enumerate(text) if c != " " or i == 0 or text[i - 1] != " "]
    return "".join(text[i] for i in origin), origin


def _is_whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    edges_alnum = (text[start].isalnum() and before.isalnum()) or (
        text[end - 1].isalnum() and after.isalnum()
    )
    return not edges_alnum

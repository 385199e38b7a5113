"""Word tokens for the name and place detector: each word with its span, its case and the text
between it and the word before (which decides whether two words belong to one name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ztai.protection.pii_scan import compile_pattern, scan

WORD_PATTERN = r"[\p{L}\p{M}]+(?:['’\-][\p{L}\p{M}]+)*"
_SENTENCE_ENDS = frozenset(".!?:;\n\"'“”«»()[]>*#")
_POSSESSIVES = ("'s", "’s")


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    lower: str
    is_capitalised: bool  # "Anna", "ANNA"
    is_acronym: bool  # "ANNA", "DOI": upper case, and the text around it is not
    starts_sentence: bool
    gap: str  # the text between the previous word and this one, "" for the first


def tokenize(pattern: Any, text: str) -> list[Token]:
    """Words found by ``pattern`` (``compile_pattern(WORD_PATTERN)``), possessives trimmed."""
    tokens: list[Token] = []
    previous_end = 0
    upper_case = text.isupper()
    for start, found_end in scan(pattern, text):
        end = found_end - 2 if text[start:found_end].endswith(_POSSESSIVES) else found_end
        gap = text[previous_end:start]
        tokens.append(
            Token(
                start,
                end,
                text[start:end].lower(),
                text[start].isupper() and end - start > 1,
                text[start:end].isupper() and not upper_case,
                _starts_sentence(gap, first=not tokens),
                gap,
            )
        )
        previous_end = found_end
    return tokens


def _starts_sentence(gap: str, *, first: bool) -> bool:
    stripped = gap.rstrip(" \t")
    return first or (bool(stripped) and stripped[-1] in _SENTENCE_ENDS)


def word_pattern() -> Any:
    """The compiled word pattern; build once and reuse."""
    return compile_pattern(WORD_PATTERN)

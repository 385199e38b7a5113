"""Word tokens for the name and place detector: each word with its span, its case and the text
between it and the word before (which decides whether two words belong to one name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ztai.protection.pii_scan import compile_pattern, scan

WORD_PATTERN = r"[\p{L}\p{M}]+(?:['’\-][\p{L}\p{M}]+)*"
_SENTENCE_ENDS = frozenset(".!?:;\n\"'“”«»()[]>*#")
POSSESSIVES = ("'s", "’s")
# The word pattern's classes on ASCII: letters become "a", joiners "-", anything else " ".
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ASCII_CLASSES = bytes.maketrans(
    bytes(range(256)),
    bytes(
        ord("a") if byte in _ASCII_LETTERS else ord("-") if byte in b"'-" else ord(" ")
        for byte in range(256)
    ),
)


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
    source = TokenText(text, text.isupper())
    for start, found_end in word_spans(pattern, text):
        tokens.append(source.token(start, found_end, previous_end, first=not tokens))
        previous_end = found_end
    return tokens


def word_spans(pattern: Any, text: str) -> list[tuple[int, int]]:
    """The spans ``pattern`` finds, possessives included. ASCII text is split without RE2 (one
    call per word is most of the cost): its words are runs of letters joined by single
    apostrophes or hyphens, as the pattern says."""
    if not text.isascii():
        return list(scan(pattern, text))
    spans: list[tuple[int, int]] = []
    position = 0
    for chunk in text.encode("ascii").translate(_ASCII_CLASSES).split(b" "):
        if b"-" in chunk:
            spans.extend(_joined_runs(chunk, position))
        elif chunk:
            spans.append((position, position + len(chunk)))
        position += len(chunk) + 1
    return spans


def _joined_runs(chunk: bytes, offset: int) -> list[tuple[int, int]]:
    """Words in a run of letters and joiners: a single joiner between letters joins them."""
    spans: list[tuple[int, int]] = []
    start = end = -1
    for piece in chunk.split(b"-"):
        if piece:
            start = offset if start < 0 else start
            end = offset + len(piece)
        elif start >= 0:
            spans.append((start, end))
            start = -1
        offset += len(piece) + 1
    return [*spans, (start, end)] if start >= 0 else spans


@dataclass(frozen=True, slots=True)
class TokenText:
    """The text tokens are cut from; ``upper_case``: the whole text is upper case."""

    text: str
    upper_case: bool

    def lower(self, start: int, found_end: int) -> str:
        """The ``lower`` of the token at ``start:found_end``."""
        text = self.text
        end = found_end - 2 if text[start:found_end].endswith(POSSESSIVES) else found_end
        return text[start:end].lower()

    def token(self, start: int, found_end: int, gap_start: int, *, first: bool) -> Token:
        """The word RE2 found at ``start:found_end``; the previous word ended at ``gap_start``
        (0 if none); ``first``: no word comes before it in the whole text."""
        text = self.text
        end = found_end - 2 if text[start:found_end].endswith(POSSESSIVES) else found_end
        gap = text[gap_start:start]
        return Token(
            start,
            end,
            text[start:end].lower(),
            text[start].isupper() and end - start > 1,
            text[start:end].isupper() and not self.upper_case,
            _starts_sentence(gap, first=first),
            gap,
        )


def _starts_sentence(gap: str, *, first: bool) -> bool:
    stripped = gap.rstrip(" \t")
    return first or (bool(stripped) and stripped[-1] in _SENTENCE_ENDS)


def word_pattern() -> Any:
    """The compiled word pattern; build once and reuse."""
    return compile_pattern(WORD_PATTERN)

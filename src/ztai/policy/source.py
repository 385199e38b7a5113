"""Cut Cedar policy text into its statements, with the line each starts on.

cedarpy reports neither source spans nor line numbers; this lexer (strings and ``//`` comments
aware) gives each policy its original text and line, so errors and explanations can point at them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Statement:
    """One policy as written: text from its first token through its ``;``, and its 1-based line."""

    text: str
    line: int


@dataclass(slots=True)
class _Cursor:
    text: str
    pos: int = 0
    start: int = -1


def split_statements(text: str) -> list[Statement]:
    """Split at every ``;`` outside strings and comments; trailing text without one is kept too."""
    cur = _Cursor(text)
    found: list[Statement] = []
    while cur.pos < len(text):
        char = text[cur.pos]
        if text.startswith("//", cur.pos):
            _skip_comment(cur)
            continue
        if not char.isspace() and cur.start < 0:
            cur.start = cur.pos
        if char == '"':
            _skip_string(cur)
            continue
        cur.pos += 1
        if char == ";":
            found.append(_statement(cur))
    if cur.start >= 0:
        found.append(_statement(cur))
    return found


def _statement(cur: _Cursor) -> Statement:
    stmt = Statement(cur.text[cur.start : cur.pos].strip(), cur.text.count("\n", 0, cur.start) + 1)
    cur.start = -1
    return stmt


def _skip_comment(cur: _Cursor) -> None:
    end = cur.text.find("\n", cur.pos)
    cur.pos = len(cur.text) if end < 0 else end + 1


def _skip_string(cur: _Cursor) -> None:
    pos = cur.pos + 1
    while pos < len(cur.text) and cur.text[pos] != '"':
        pos += 2 if cur.text[pos] == "\\" else 1
    cur.pos = pos + 1

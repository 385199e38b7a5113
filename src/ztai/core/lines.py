"""Reading labelled rows, one JSON object a line, for the evaluation commands."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def parse_lines(lines: Iterable[str], parse: Callable[[str], T]) -> list[T]:
    """``parse`` of every non-blank line; a ``ValueError`` it raises comes back naming the
    line (``line 7: ...``). Split a file's text at newlines only (``text.split("\\n")``):
    ``str.splitlines`` also splits at U+2028, which a JSON string may hold."""
    rows = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                rows.append(parse(line))
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from exc
    return rows

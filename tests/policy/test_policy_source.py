"""Splitting Cedar text into statements with their lines."""

from __future__ import annotations

import pytest

from ztai.policy.source import Statement, split_statements

CASES = [
    ("empty", "", []),
    ("only comments", "// a; b\n  // c\n", []),
    ("two", "permit(a);\nforbid(b);", [Statement("permit(a);", 1), Statement("forbid(b);", 2)]),
    (
        "semicolon in string",
        '@reason("a; b")\npermit(a);',
        [Statement('@reason("a; b")\npermit(a);', 1)],
    ),
    (
        "escaped quote",
        '@reason("a \\"; b")\npermit(a);',
        [Statement('@reason("a \\"; b")\npermit(a);', 1)],
    ),
    ("comment inside", "permit(a // x;\n);", [Statement("permit(a // x;\n);", 1)]),
    ("slashes in string", '@r("//;")\npermit(a);', [Statement('@r("//;")\npermit(a);', 1)]),
    (
        "trailing fragment",
        "permit(a);\n\n\n  permit(b",
        [Statement("permit(a);", 1), Statement("permit(b", 4)],
    ),
    ("unterminated string", 'permit(a) when { "x', [Statement('permit(a) when { "x', 1)]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_split(text: str, expected: list[Statement]) -> None:
    assert split_statements(text) == expected

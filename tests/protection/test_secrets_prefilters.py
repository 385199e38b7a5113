"""Work the secret detector skips must never hide a secret: an allowlist's regexes are searched
as one alternation (each keeps its own flags and anchors), and a built-in scanner runs only when
its pattern's literals occur. Positives sit at the edge of each shortcut."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztai.protection.pii_scan import compile_set
from ztai.protection.secrets_compile import KeywordIndex
from ztai.protection.secrets_detector import SecretDetector, SecretDetectorConfig
from ztai.protection.secrets_rules import Allowlist, RuleBook, SecretRule

# Flags and anchors that would change meaning if they leaked into a neighbour; and a quoted
# literal that runs to the end of its pattern, so it cannot be wrapped in a group: that
# allowlist's patterns are searched one by one.
JOINED = Allowlist(regexes=(r"(?i)^changeme", r"^Z[0-9]+$", r"^x+$", r"aaa\d"))
QUOTED = Allowlist(regexes=(r"\Qbbb1", r"(?i)^changeme"))


def detector(allowlist: Allowlist, *, on_rule: bool) -> SecretDetector:
    rule = SecretRule(
        "tok", r"\btok_([A-Za-z0-9]{12})\b", ("tok_",), allowlists=(allowlist,) if on_rule else ()
    )
    book = RuleBook(rules=(rule,), allowlists=() if on_rule else (allowlist,))
    return SecretDetector.build(SecretDetectorConfig(builtins=False), book)


@pytest.mark.parametrize("on_rule", [False, True])
@pytest.mark.parametrize("allowlist", [JOINED, QUOTED])
@pytest.mark.parametrize(
    ("secret", "allowed_by"),
    [
        ("CHANGEME1234", {JOINED, QUOTED}),  # (?i) applies to its own pattern
        ("changemeXY12", {JOINED, QUOTED}),
        ("Z12345678901", {JOINED}),
        ("z12345678901", set()),  # the neighbour's (?i) does not reach "^Z"
        ("xxxxxxxxxxxx", {JOINED}),
        ("xxxxxxxxxxxy", set()),  # "$" stays with "^x+"
        ("qaaa1qqqqqqq", {JOINED}),
        ("qbbb1qqqqqqq", {QUOTED}),
        ("a1b2c3d4e5f6", set()),
    ],
)
def test_an_allowlist_allows_what_one_of_its_regexes_matches(
    allowlist: Allowlist, on_rule: bool, secret: str, allowed_by: set[Allowlist]
) -> None:
    found = detector(allowlist, on_rule=on_rule).detect(f"key tok_{secret} end")
    assert [m.kind for m in found] == ([] if allowlist in allowed_by else ["secret.tok"])


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


JWT = f"{_segment({'alg': 'HS256'})}.{_segment({'sub': '1'})}.c2lnbmF0dXJlLXZhbHVl"
BODY = base64.b64encode(bytes(range(120))).decode()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (JWT, "secret.jwt"),  # "eyJ" at the very start
        (f"-----BEGIN PRIVATE KEY-----\n{BODY}", "secret.private-key"),
        ("redis://:pw@cache", "secret.connection-string"),  # "://" and nothing else
        ("Server=db;Password=hunter2", "secret.connection-string"),  # one "=" before the ";"
    ],
)
def test_builtin_formats_at_the_edge_of_their_literals(text: str, kind: str) -> None:
    found = SecretDetector.build(book=RuleBook(rules=())).detect(text)
    assert [m.kind for m in found] == [kind]


# Keywords: the shipped ones and some that share prefixes, overlap or are not ASCII.
_WORDS = ("s.", "hvs.", "key", "api_key", "ghp_", "xoxb-", "ключ", "ß", "aa", "aaa", "\x00x")
_KEYWORD_TEXT = st.lists(st.sampled_from([*"sShvS.kKeyapi_gxob-ß ", "ключ", "ẞ", "\x00x",
                                          "\ud800", "é"]), max_size=40).map("".join)


def _by_set(index: KeywordIndex, lowered: bytes) -> frozenset[int]:
    return frozenset(compile_set(index.words, literal=True).Match(lowered) or ())


@given(_KEYWORD_TEXT)
def test_the_keyword_automaton_finds_what_the_set_finds(text: str) -> None:
    index = KeywordIndex(_WORDS)
    lowered = text.encode("utf-8", "replace").lower()
    assert index.found(lowered) == _by_set(index, lowered)


@pytest.mark.parametrize("size", [4095, 4096, 4097, 20_000])
def test_long_texts_find_the_same_keywords(size: int) -> None:
    index = SecretDetector.build()._scanners[0]._rules.keywords  # type: ignore[attr-defined]
    assert index is not None
    text = ("Keys: s.x api_key=1 ghp_y xoxb- hvs. " * 600).encode().lower()[:size]
    found = index.found(text)
    assert found == _by_set(index, text)
    assert {index.words[i] for i in found} >= {"ghp_", "hvs.", "s."}


def test_a_keyword_at_the_last_byte_of_a_short_text_is_found() -> None:
    index = KeywordIndex(("ghp_",))
    assert index.found(b"x" * 4092 + b"ghp_") == {0}
    assert index.found(b"x" * 4093 + b"ghp_") == {0}  # a long text: the set


def test_an_empty_keyword_index_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one word"):
        KeywordIndex(())

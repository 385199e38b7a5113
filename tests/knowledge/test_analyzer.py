"""The analyzer: the same terms for documents and queries, whatever the case, punctuation,
Unicode form or script; function words dropped; overlong terms cut."""

from __future__ import annotations

import pytest

from ztai.knowledge.analyzer import MAX_TERM_CHARS, terms
from ztai.knowledge.chunker import split


@pytest.mark.parametrize(("text", "expected"), [
    ("Project Obsidian's budget: 42M€!", ["project", "obsidian", "s", "budget", "42m"]),
    ("The plan is in the vault", ["plan", "vault"]),
    ("ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ", ["fullwidth", "text"]),  # NFKC
    ("Straße STRASSE", ["strasse", "strasse"]),  # case folding
    ("naïve—café…résumé", ["naïve", "café", "résumé"]),
    ("emoji😀between", ["emoji", "between"]),  # a separator outside the BMP
    ("tab\tnew\nline\x00null", ["tab", "new", "line", "null"]),
    ("", []),
    ("  ,.;  ", []),
])
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_overlong_terms_are_cut_the_same_way_everywhere() -> None:
    long_word = "x" * (MAX_TERM_CHARS * 3)
    assert terms(f"a {long_word} b") == ["x" * MAX_TERM_CHARS, "b"]
    assert terms(long_word.upper()) == terms(long_word)


@pytest.mark.parametrize("text", [
    "One paragraph.\n\nAnother paragraph that is somewhat longer than the first one was. " * 40,
    "word " * 2000,
    "x" * 5000,  # no break at all: hard cuts
    "\n\n   leading and trailing space   \n\n",
    "Ünïcödé tëxt with ümlauts. " * 100,
])
def test_chunks_cover_the_text_with_exact_offsets(text: str) -> None:
    chunks = split(text, 300)
    assert chunks, "a text with words has chunks"
    for number, chunk in enumerate(chunks):
        assert chunk.ordinal == number
        assert text[chunk.start:chunk.end] == chunk.text
        assert 0 < len(chunk.text) <= 300
        assert chunk.text == chunk.text.strip()
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    covered = "".join(c.text for c in chunks)
    assert "".join(covered.split()) == "".join(text.split())  # nothing but space is lost


def test_chunks_prefer_paragraph_breaks() -> None:
    text = ("a" * 100 + "\n\n") * 5
    assert [c.text for c in split(text, 250)] == ["a" * 100 + "\n\n" + "a" * 100] * 2 + [
        "a" * 100]


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_blank_texts_have_no_chunks(text: str) -> None:
    assert split(text) == []


def test_a_tiny_chunk_size_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        split("text", 4)

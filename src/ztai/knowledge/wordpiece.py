"""BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2 uses it, in plain Python: lower case,
accents stripped, control characters dropped, split at white space and around each punctuation
or CJK character, then each word cut greedily into the longest pieces the vocabulary knows
("##" marks a piece inside a word); a word that cannot be cut is ``[UNK]``. Bounded work
whatever the input: a word longer than ``MAX_WORD_CHARS`` is ``[UNK]`` (as in BERT) and the
greedy cut tries at most that many lengths per piece.

Words are remembered (their ids, least recently used out first): in running text words repeat,
so most cost one dictionary lookup."""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from collections.abc import Iterator, Sequence

MAX_WORD_CHARS = 100
UNKNOWN = "[UNK]"
_REMEMBERED_WORDS = 200_000
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ASCII_CONTROLS = {code: None for code in (*range(32), 127) if chr(code) not in "\t\n\r"}
_DROPPED = frozenset({"Mn", "Cc", "Cf", "Co", "Cs"})


class WordPiece:
    """Token ids for text, from ``vocab`` (the pieces in id order)."""

    def __init__(self, vocab: Sequence[str]) -> None:
        self._ids = {piece: index for index, piece in enumerate(vocab)}
        if UNKNOWN not in self._ids:
            raise ValueError(f"the vocabulary has no {UNKNOWN}")
        self.unknown = self._ids[UNKNOWN]  # the id of a piece that cannot be cut
        self._words: OrderedDict[str, tuple[int, ...]] = OrderedDict()

    def ids(self, text: str) -> list[int]:
        out: list[int] = []
        for word in words(text):
            known = self._words.get(word)
            if known is None:
                known = self._cut(word)
                self._words[word] = known
                if len(self._words) > _REMEMBERED_WORDS:
                    self._words.popitem(last=False)
            out.extend(known)
        return out

    def _cut(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_WORD_CHARS:
            return (self.unknown,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    pieces.append(found)
                    start = end
                    break
            else:
                return (self.unknown,)
        return tuple(pieces)


def words(text: str) -> Iterator[str]:
    """The words BERT's basic tokenizer makes of ``text`` (before WordPiece)."""
    for chunk in _clean(text).split():
        if chunk.isalnum() and chunk.isascii():
            yield chunk
            continue
        start = 0
        for at, char in enumerate(chunk):
            if _stands_alone(char):
                if at > start:
                    yield chunk[start:at]
                yield char
                start = at + 1
        if start < len(chunk):
            yield chunk[start:]


def _clean(text: str) -> str:
    """Lower case, accents stripped (NFD without combining marks), control characters gone."""
    if text.isascii():
        return text.lower().translate(_ASCII_CONTROLS)
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in _DROPPED)


def _stands_alone(char: str) -> bool:
    """Punctuation (ASCII symbols count, as in BERT) and CJK ideographs are words of their own."""
    if char.isascii():
        return char in _ASCII_PUNCTUATION
    code = ord(char)
    return unicodedata.category(char).startswith("P") or (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)

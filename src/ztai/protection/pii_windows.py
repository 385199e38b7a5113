"""The words the name rules read in text with capital letters: every name starts at a
capitalised word, and the rules look back no further than the cue words just before it ("my name
is", "Dr.", "from") and on no further than its run of capitalised words and particles. RE2 finds
the capitalised words in one pass; only the words around them are tokenised, so ordinary prose
costs a few RE2 calls instead of one per word, and the rules see the same answers."""

from __future__ import annotations

from typing import Any

from ztai.protection.pii_scan import compile_pattern
from ztai.protection.pii_tokens import POSSESSIVES, WORD_PATTERN, Token, TokenText, tokenize

# A word from an upper-case letter on (every character Python calls upper case that RE2 counts
# as a letter is in \p{Lu}). At the start of a word, it is the whole word; inside one ("iPhone")
# the word does not start with a capital, and no name starts there.
_CAPITAL = r"[\p{Lu}\p{Lt}]" + WORD_PATTERN.replace("]+", "]*", 1)
_ASCII_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ASCII_JOINERS = frozenset(b"'-")
_ASCII_LOWER = frozenset(b"abcdefghijklmnopqrstuvwxyz")
_CUE_GAPS = " .,"  # the rules take a cue word followed by " ", ". " or ", "
_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 continuation bytes: not the start of a char
_UTF8_MAX = 4  # bytes per character


class CapitalWindows:
    """Tokenises the windows around capitalised words of texts that hold a capital letter.

    The result is a subsequence of ``tokenize(words, text)`` holding every capitalised word,
    the two words before one when a cue word may end right before it, and every word that
    continues one through single spaces while capitalised or a particle. Each token's ``gap``
    is the text since the previous token returned, so a word left out shows in it."""

    __slots__ = (
        "_capitals",
        "_cues",
        "_longest_particle",
        "_particle_bytes",
        "_particles",
        "_tail",
        "_words",
    )

    def __init__(self, words: Any, cues: frozenset[str], particles: frozenset[str]) -> None:
        self._words = words
        self._capitals = compile_pattern(_CAPITAL)
        self._cues = tuple(sorted(cues))
        # A cue word, its possessive and its gap: where the word before a name can start.
        self._tail = max(len(cue) for cue in cues) + len("'s") + len(", ")
        self._particles = particles
        self._particle_bytes = tuple(sorted(p.encode("utf-8") for p in particles))
        self._longest_particle = max(len(p) for p in self._particle_bytes)

    def tokenize(self, text: str) -> list[Token]:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the whole-text tokenizer copes
            return tokenize(self._words, text)
        walk = _Walk(TokenText(text, text.isupper()), data, self._words)
        for capital in self._capitals.finditer(data):
            start, end = capital.span()
            if start >= walk.cursor:
                self._around(walk, start, end)
        return walk.tokens

    def _around(self, walk: _Walk, start: int, end: int) -> None:
        """Keep the capitalised word at ``start:end``, the words before it that may be cues
        and the words that continue it."""
        word_start = _is_word_start(walk.data, start)
        if word_start is False:
            return  # inside a word that does not start with a capital
        back = self._words_back(walk, start)
        if word_start is None or back:  # tokenise from a point that RE2 would also pass
            self._window(walk, _safe_start(walk.data, walk.cursor, start - back), start)
            return
        token = walk.read(start, end)
        if token.is_capitalised:
            walk.keep(token, end)
            if self._may_continue(walk.data, end):
                self._window(walk, end, start)

    def _may_continue(self, data: bytes, end: int) -> bool:
        """A superset test: a capitalised word or a particle starts one space after ``end``
        (one that is capitalised has a match of its own, so it need not be read here)."""
        if data[end : end + 1] != b" " or end + 1 == len(data):
            return False
        after = data[end + 1]
        if after >= 0x80:
            return True
        if after not in _ASCII_LOWER:
            return False  # an upper-case letter starts its own window; anything else no word
        following = data[end + 1 : end + 1 + self._longest_particle].lower()
        return following.startswith(self._particle_bytes)

    def _words_back(self, walk: _Walk, at: int) -> int:
        """How many bytes before ``at`` the words the rules may read start: two words' worth
        when the text may end in a cue word there, else none."""
        if walk.data[at - 1 : at] != b" ":
            return 0  # every gap after a cue word ends in a space
        at_char = walk.chars(at)
        tail = walk.source.text[max(0, at_char - self._tail) : at_char].lower().rstrip(_CUE_GAPS)
        may_be_cue = tail.endswith(self._cues) or (
            tail.endswith(POSSESSIVES) and tail[:-2].endswith(self._cues)
        )
        return 2 * self._tail * (1 if walk.is_ascii else _UTF8_MAX) if may_be_cue else 0

    def _window(self, walk: _Walk, start: int, at: int) -> None:
        """Keep the words from ``start`` through the one at ``at``, then those continuing it."""
        for found in self._words.finditer(walk.data, start):
            token_start, token_end = found.span()
            if token_start > at and not walk.is_one_space_on(token_start):
                return  # only a word one space on can continue a name
            token = walk.read(token_start, token_end)
            if token_start > at and not self._continues(token):
                return
            walk.keep(token, token_end)

    def _continues(self, token: Token) -> bool:
        return token.is_capitalised or token.lower in self._particles


def _is_word_start(data: bytes, at: int) -> bool | None:
    """Whether RE2's word pattern starts a word at ``at`` (a letter); None when the character
    before is not ASCII and it cannot tell at a glance."""
    if at == 0:
        return True
    before = data[at - 1]
    if before >= 0x80:
        return None
    if before in _ASCII_LETTERS:
        return False
    if before in _ASCII_JOINERS and at >= 2:  # "Jean-Luc": a joiner between letters
        return None if data[at - 2] >= 0x80 else data[at - 2] not in _ASCII_LETTERS
    return True


def _safe_start(data: bytes, cursor: int, low: int) -> int:
    """The last offset in ``cursor..low`` right after a space or line break (RE2 finds the
    same words from there as from the beginning), else ``cursor``."""
    if low <= cursor:
        return cursor
    return max(cursor, data.rfind(b" ", cursor, low) + 1, data.rfind(b"\n", cursor, low) + 1)


class _Walk:
    """The tokens kept so far, and byte offsets turned into character offsets."""

    __slots__ = (
        "_byte",
        "_char",
        "_first",
        "_gap_start",
        "_words",
        "cursor",
        "data",
        "is_ascii",
        "source",
        "tokens",
    )

    def __init__(self, source: TokenText, data: bytes, words: Any) -> None:
        self.source, self.data, self._words = source, data, words
        self.is_ascii = len(data) == len(source.text)
        self.tokens: list[Token] = []
        self._first = -1  # where the text's first word starts, in bytes: looked up if needed
        self._byte = self._char = 0  # the last offset converted, in bytes and in characters
        self._gap_start = 0  # where the last kept token ends, in characters
        self.cursor = 0  # the same, in bytes: before it, no word is left to keep

    def read(self, start: int, end: int) -> Token:
        """The token RE2 found at the byte span ``start:end``."""
        first = not self.tokens and self._is_first_word(start)
        return self.source.token(self.chars(start), self.chars(end), self._gap_start, first=first)

    def is_one_space_on(self, start: int) -> bool:
        """Whether one space, and nothing else, lies between the last kept token and ``start``."""
        return start == self.cursor + 1 and self.data[self.cursor] == 0x20

    def keep(self, token: Token, end: int) -> None:
        self.tokens.append(token)
        self.cursor, self._gap_start = end, self.chars(end)

    def chars(self, offset: int) -> int:
        """The character offset of a byte offset; linear in the distance from the last one."""
        if self.is_ascii:
            return offset
        low, high = sorted((self._byte, offset))
        count = len(self.data[low:high].translate(None, _CONTINUATION))
        self._char += count if offset >= self._byte else -count
        self._byte = offset
        return self._char

    def _is_first_word(self, start: int) -> bool:
        if self._first < 0:  # once per text, as a text may hold many capitals and no keeper
            self._first = self._words.search(self.data).start()
        return start == self._first

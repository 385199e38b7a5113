"""The words the name rules read in text without a capital letter: there a name starts only at
a listed first name or place (or right after a first name), so the lists are consulted for every
word, but tokens are built only for those words, the two before each (cues) and particles."""

from __future__ import annotations

from typing import Any

from ztai.protection.pii_lexicon import Lexicon
from ztai.protection.pii_tokens import Token, TokenText, word_spans


class LowerCaseWords:
    """``read`` gives a subsequence of ``tokenize(words, text)`` and whether each word is
    name-shaped: every name-shaped word, the two words before each and every particle. Each
    token's ``gap`` is the text since the previous token returned, so a word left out shows
    in it."""

    __slots__ = ("_lex", "_particles", "_words")

    def __init__(self, words: Any, lexicon: Lexicon, particles: frozenset[str]) -> None:
        self._words = words
        self._lex = lexicon
        self._particles = particles

    def read(self, text: str) -> tuple[list[Token], list[bool]]:
        spans = word_spans(self._words, text)
        source = TokenText(text, text.isupper())
        words = [source.lower(start, end) for start, end in spans]
        shaped = [self._is_name_shaped(words, index) for index in range(len(words))]
        kept = sorted(
            {near for index, yes in enumerate(shaped) if yes for near in (index - 2, index - 1)}
            | {index for index, yes in enumerate(shaped) if yes}
            | {index for index, word in enumerate(words) if word in self._particles}
        )
        tokens: list[Token] = []
        previous_end = 0
        for index in kept:
            if index >= 0:
                start, end = spans[index]
                tokens.append(source.token(start, end, previous_end, first=index == 0))
                previous_end = end
        return tokens, [shaped[index] for index in kept if index >= 0]

    def _is_name_shaped(self, words: list[str], index: int) -> bool:
        """A listed first name or place, or a word after a first name, unless a common word."""
        word, lex = words[index], self._lex
        if word in lex.common_words:
            return False
        after_first = index > 0 and words[index - 1] in lex.first_names
        return word in lex.first_names or word in lex.places or after_first

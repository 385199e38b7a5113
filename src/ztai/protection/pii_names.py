"""Person names and places without a model: runs of capitalised words are judged against
first-name, surname, place and common-word lists plus a few cues (honorifics, "in"/"from"
before a place, company suffixes). Fast and explainable; it misses names absent from the lists
unless a known first name, an honorific or a cue comes with them."""

from __future__ import annotations

from collections.abc import Sequence

from ztai.protection.model import Match
from ztai.protection.pii_lexicon import Lexicon
from ztai.protection.pii_name_rules import RunJudge
from ztai.protection.pii_name_words import PARTICLES
from ztai.protection.pii_tokens import Token, tokenize, word_pattern


class NameDetector:
    """Reports ``pii.person`` and ``pii.location``. A text with no capital letter at all is read
    in lower-case mode, where only listed names and places start a name."""

    name = "pii.names"
    __slots__ = ("_words", "lexicon")

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._words = word_pattern()

    def detect(self, text: str) -> list[Match]:
        tokens = tokenize(self._words, text)
        lower_case = not any(char.isupper() for char in text)
        shaped = [self._is_name_shaped(tokens, i, lower_case) for i in range(len(tokens))]
        judge = RunJudge(self.lexicon, tokens)
        found = (f for run in runs(tokens, shaped) for f in judge.judge(run))
        return [
            Match(kind, tokens[first].start, tokens[last].end, score, self.name)
            for kind, first, last, score in found
        ]

    def _is_name_shaped(self, tokens: Sequence[Token], index: int, lower_case: bool) -> bool:
        token = tokens[index]
        if not lower_case:
            return token.is_capitalised
        lex = self.lexicon
        if token.lower in lex.common_words:
            return False
        after_first = index > 0 and tokens[index - 1].lower in lex.first_names
        return token.lower in lex.first_names or token.lower in lex.places or after_first


def runs(tokens: Sequence[Token], shaped: Sequence[bool]) -> list[list[int]]:
    """Maximal runs of name-shaped words one space apart, bridged by particles ("van der")."""
    bridges = _bridges(tokens, shaped)
    found: list[list[int]] = []
    for index, token in enumerate(tokens):
        joins = bool(found) and found[-1][-1] == index - 1 and token.gap == " "
        if shaped[index] or (joins and bridges[index]):
            if joins:
                found[-1].append(index)
            else:
                found.append([index])
    return found


def _bridges(tokens: Sequence[Token], shaped: Sequence[bool]) -> list[bool]:
    """``bridges[i]``: word i is a particle followed, through particles only, by a name-shaped
    word. Computed right to left, so a long chain of particles costs one pass."""
    bridges = [False] * (len(tokens) + 1)
    for index in range(len(tokens) - 2, -1, -1):
        following = index + 1
        leads_on = shaped[following] or bridges[following]
        is_particle = tokens[index].lower in PARTICLES
        bridges[index] = is_particle and tokens[following].gap == " " and leads_on
    return bridges

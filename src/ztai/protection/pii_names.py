"""Person names and places without a model: runs of capitalised words are judged against
first-name, surname, place and common-word lists plus a few cues (honorifics, "in"/"from"
before a place, company suffixes). Fast and explainable; it misses names absent from the lists
unless a known first name, an honorific or a cue comes with them."""

from __future__ import annotations

from collections.abc import Sequence

from ztai.protection.model import Match
from ztai.protection.pii_lexicon import Lexicon
from ztai.protection.pii_lower_case import LowerCaseWords
from ztai.protection.pii_name_rules import RunJudge
from ztai.protection.pii_name_words import CUE_WORDS, PARTICLES
from ztai.protection.pii_scan import has_upper
from ztai.protection.pii_tokens import Token, word_pattern
from ztai.protection.pii_windows import CapitalWindows


class NameDetector:
    """Reports ``pii.person`` and ``pii.location``. A text with no capital letter at all is read
    in lower-case mode, where only listed names and places start a name."""

    name = "pii.names"
    __slots__ = ("_lower_case", "_windows", "lexicon")

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        words = word_pattern()
        self._windows = CapitalWindows(words, CUE_WORDS, PARTICLES)
        self._lower_case = LowerCaseWords(words, lexicon, PARTICLES)

    def detect(self, text: str) -> list[Match]:
        if has_upper(text):
            tokens = self._windows.tokenize(text)
            shaped = [token.is_capitalised for token in tokens]
        else:
            tokens, shaped = self._lower_case.read(text)
        judge = RunJudge(self.lexicon, tokens)
        found = (f for run in runs(tokens, shaped) for f in judge.judge(run))
        return [
            Match(kind, tokens[first].start, tokens[last].end, score, self.name)
            for kind, first, last, score in found
        ]


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

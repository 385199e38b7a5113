"""What a run of capitalised words is: a person (listed first name, listed surname, honorific
or name cue before it), one or more places (listed, or unlisted right after a place cue), or
neither (common words, organisations, headings). Each verdict carries a confidence score."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_lexicon import Lexicon
from ztai.protection.pii_name_words import (
    HONORIFICS,
    NAME_CUES,
    ORG_WORDS,
    PARTICLES,
    PLACE_CUES,
)
from ztai.protection.pii_tokens import Token

MAX_NAME_WORDS = 5
MAX_PLACE_WORDS = 8
Found = tuple[PiiKind, int, int, float]  # kind, first token, last token (inclusive), score


@dataclass(frozen=True, slots=True)
class RunJudge:
    """Decides what one run of words is: a person, one or more places, or neither."""

    lex: Lexicon
    tokens: Sequence[Token]

    def judge(self, run: list[int]) -> Iterator[Found]:
        if not run or any(self.tokens[i].lower in ORG_WORDS for i in run):
            return
        if len(run) > MAX_NAME_WORDS + 1:  # a Title Case Heading, not a name
            yield from self._places_in(run)
            return
        if self._after(run, HONORIFICS):
            yield PiiKind.PERSON, run[0], run[-1], 0.9
        elif self._after_phrase(run) and not self._is_place(run):
            yield PiiKind.PERSON, run[0], run[-1], 0.6
        elif self._is_place(run) and not self._is_person_not_place(run):
            yield PiiKind.LOCATION, run[0], run[-1], 0.8
        else:
            yield from self._judge_trimmed(self._trim(run))

    def _judge_trimmed(self, run: list[int]) -> Iterator[Found]:
        if not run:
            return
        score = self._person_score(run)
        if score > 0 and len(run) <= MAX_NAME_WORDS:
            yield PiiKind.PERSON, run[0], run[-1], score
        elif self._is_unknown_after_place_cue(run):
            yield PiiKind.LOCATION, run[0], run[-1], 0.5
        else:
            yield from self._places_in(run)

    def _is_unknown_after_place_cue(self, run: list[int]) -> bool:
        """Unlisted words right after a place cue ("moved here from Kwaxuma")."""
        unknown = all(
            not self._is_common(i) and self.tokens[i].lower not in self.lex.first_names for i in run
        )
        return unknown and len(run) <= MAX_NAME_WORDS and self._after(run, PLACE_CUES)

    def _person_score(self, run: list[int]) -> float:
        words = [self.tokens[i] for i in run]
        first, last = words[0].lower, words[-1].lower
        if len(words) > 1:
            if self._ends_in_place(run) and not self._is_surname(last):
                return 0.0
            return 0.85 if first in self.lex.first_names else 0.7 if self._is_surname(last) else 0
        if first in self.lex.common_words or words[0].is_acronym:
            return 0.0
        if first in self.lex.first_names:
            return 0.6
        surname = self._is_surname(first) and not self._is_place(run)
        return 0.4 if surname and not words[0].starts_sentence else 0.0

    def _ends_in_place(self, run: list[int]) -> bool:
        """A run ending in a place ("Catanduva São Paulo") is a city line, not a name."""
        return any(self._is_place(run[-k:]) for k in range(1, min(len(run), 4)))

    def _is_surname(self, word: str) -> bool:
        return word in self.lex.surnames and word not in self.lex.common_words

    def _is_person_not_place(self, run: list[int]) -> bool:
        """A lone word that is both a first name and a place ("Florence") is a person unless a
        place cue comes before it."""
        word = self.tokens[run[0]].lower
        return len(run) == 1 and word in self.lex.first_names and not self._after(run, PLACE_CUES)

    def _trim(self, run: list[int]) -> list[int]:
        """Drop common words at the edges ("Dear", "Thanks"), keeping "Will Smith"."""
        while run and self._is_common_lead(run):
            run = run[1:]
        while (
            run and self._is_common(run[-1]) and self.tokens[run[-1]].lower not in self.lex.surnames
        ):
            run = run[:-1]
        return run

    def _is_common_lead(self, run: list[int]) -> bool:
        word = self.tokens[run[0]].lower
        if not self._is_common(run[0]):
            return False
        if word not in self.lex.first_names or len(run) == 1:
            return True
        following = self.tokens[run[1]].lower
        is_name = following in self.lex.first_names or following in self.lex.surnames
        return not is_name or following in self.lex.common_words

    def _is_common(self, index: int) -> bool:
        word = self.tokens[index].lower
        return word in self.lex.common_words or word in PARTICLES

    def _after(self, run: list[int], cues: frozenset[str]) -> bool:
        if run[0] == 0 or self.tokens[run[0]].gap not in (" ", ". "):
            return False
        return self.tokens[run[0] - 1].lower in cues

    def _after_phrase(self, run: list[int]) -> bool:
        if run[0] == 0:
            return False
        previous = self.tokens[run[0] - 1].lower  # a phrase's last word comes right before
        return any(self._follows(run[0], p) for p in NAME_CUES if p[-1] == previous)

    def _follows(self, index: int, phrase: tuple[str, ...]) -> bool:
        before = range(index - len(phrase), index)
        return before.start >= 0 and all(
            self.tokens[i].lower == word and self.tokens[i + 1].gap in (" ", ", ")
            for i, word in zip(before, phrase, strict=True)
        )

    def _is_place(self, run: list[int]) -> bool:
        words = " ".join(self.tokens[i].lower for i in run)
        single_common = len(run) == 1 and words in self.lex.common_words
        return words in self.lex.places and not (single_common and not self._after(run, PLACE_CUES))

    def _places_in(self, run: list[int]) -> Iterator[Found]:
        """Longest listed places inside a run that is not a person ("Paris France"); place
        names have at most ``MAX_PLACE_WORDS`` words, which keeps this linear."""
        position = 0
        while position < len(run):
            length = next(
                (
                    n
                    for n in range(min(len(run) - position, MAX_PLACE_WORDS), 0, -1)
                    if self._is_place(run[position : position + n])
                ),
                0,
            )
            if length:
                yield PiiKind.LOCATION, run[position], run[position + length - 1], 0.6
            position += max(length, 1)

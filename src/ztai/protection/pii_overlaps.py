"""Which of several overlapping findings survive: a finding is dropped when it overlaps one of a
kind that ranks higher (a checked identifier beats a phone number, which beats a name). Kinds
of equal rank may overlap; exact duplicates are kept once."""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import groupby

from ztai.protection.model import Match
from ztai.protection.pii_kinds import PiiKind

# Highest first. A person's name inside a street address is the street's name ("Rue Victor
# Hugo") and goes; a place inside one (its city line) is reported as both.
RANKS: tuple[frozenset[str], ...] = (
    frozenset({PiiKind.EMAIL, PiiKind.IBAN, PiiKind.CREDIT_CARD}),
    frozenset({PiiKind.US_SSN, PiiKind.US_ITIN, PiiKind.UK_NINO, PiiKind.IP_ADDRESS}),
    frozenset({PiiKind.PHONE}),
    frozenset({PiiKind.STREET_ADDRESS, PiiKind.LOCATION}),
    frozenset({PiiKind.PERSON}),
)


def resolve(matches: Sequence[Match], ranks: Sequence[frozenset[str]] = RANKS) -> list[Match]:
    """Surviving matches in text order; kinds in no rank are kept without competing."""
    if len(matches) < 2:  # nothing to settle (most texts with a finding hold one)
        return list(matches)
    ranking = _ranking(tuple(ranks))
    unranked_rank = len(ranks)

    def rank(match: Match) -> int:
        return ranking.get(match.kind, unranked_rank)

    unranked = [m for m in matches if rank(m) == unranked_rank]
    by_rank = sorted((m for m in matches if rank(m) < unranked_rank), key=rank)
    kept: list[Match] = list(dict.fromkeys(unranked))
    blocked: list[tuple[int, int]] = []
    for _, group in groupby(by_rank, key=rank):
        tier = [m for m in dict.fromkeys(group) if not _overlaps_any(m, blocked)]
        kept.extend(tier)
        blocked = _merge(blocked + [(m.start, m.end) for m in tier])
    return sorted(kept, key=lambda m: (m.start, m.end, m.kind))


def outranking(kept: Sequence[Match], kind: str,
               ranks: Sequence[frozenset[str]] = RANKS) -> list[tuple[int, int]]:
    """The merged spans of ``kept`` (a ``resolve`` result) of kinds that rank above ``kind``:
    ``resolve`` drops any finding of ``kind`` that overlaps one of them, so a detector may skip
    judging such a candidate at all."""
    ranking = _ranking(tuple(ranks))
    rank = ranking.get(kind, len(ranks))
    return _merge([(m.start, m.end) for m in kept if ranking.get(m.kind, len(ranks)) < rank])


def overlaps_any(start: int, end: int, blocked: list[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps one of ``blocked`` (sorted and disjoint)."""
    index = bisect_right(blocked, (end - 1, sys.maxsize)) - 1
    return index >= 0 and blocked[index][1] > start


@lru_cache(maxsize=16)
def _ranking(ranks: tuple[frozenset[str], ...]) -> Mapping[str, int]:
    """Each ranked kind's rank (its first tier, highest first = 0)."""
    ranking: dict[str, int] = {}
    for index, kinds in enumerate(ranks):
        for kind in kinds:
            ranking.setdefault(kind, index)
    return ranking


def _overlaps_any(match: Match, blocked: list[tuple[int, int]]) -> bool:
    """``blocked`` is sorted and disjoint: only the interval starting last before the match's
    end can overlap it."""
    return overlaps_any(match.start, match.end, blocked)


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

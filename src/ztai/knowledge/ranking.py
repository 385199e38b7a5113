"""BM25 with the permission filter inside the search. Each query term's postings are cut to
the chunks of visible documents *before* scoring (a gather of the visibility mask, or, for a
reader who sees little, a binary search of the few visible chunks in the postings, whichever
is cheaper), then scored with statistics of the visible documents only. The top k is therefore
exact over what the reader may read: it never starves, and never leaks through scores."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ztai.knowledge.segment import Freqs, Ints, Segment
from ztai.knowledge.visibility import Visible

PROBE_ADVANTAGE = 4  # probe when postings outnumber the visible chunks this many times
DENSE_SHARE = 16  # accumulate scores in a dense array when matches exceed 1/16 of the chunks
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Bm25:
    k1: float = 1.2
    b: float = 0.75


@dataclass(frozen=True, slots=True)
class Scored:
    segment: int
    position: int  # of the chunk in its segment
    score: float


def bm25(segments: Sequence[Segment], terms: Sequence[str], seen: Visible, k: int,
         params: Bm25 = Bm25()) -> list[Scored]:
    """The ``k`` best visible chunks for ``terms`` (distinct), best first; ties by position."""
    if seen.is_empty or not terms or k <= 0:
        return []
    matched = [_visible_matches(segment, terms, seen) for segment in segments]
    frequencies = [sum(len(per_segment[t][0]) for per_segment in matched)
                   for t in range(len(terms))]
    idf = [math.log(1 + (seen.chunks - df + 0.5) / (df + 0.5)) for df in frequencies]
    found: list[tuple[Ints, Scores, int]] = []
    for number, (segment, per_term) in enumerate(zip(segments, matched, strict=True)):
        positions, scores = _accumulate(segment, per_term, idf, seen.avg_terms, params)
        best = best_of(scores, k)
        found.append((positions[best], scores[best], number))
    return top(found, k)


def top(found: list[tuple[Ints, Scores, int]], k: int) -> list[Scored]:
    """The ``k`` best of per-segment candidates: highest score, then segment, then position."""
    if not found:
        return []
    positions = np.concatenate([f[0] for f in found])
    scores = np.concatenate([f[1] for f in found])
    segments = np.concatenate([np.full(len(f[0]), f[2], dtype=np.int32) for f in found])
    order = np.lexsort((positions, segments, -scores))[:k]
    return [Scored(int(segments[i]), int(positions[i]), float(scores[i])) for i in order]


def _visible_matches(segment: Segment, terms: Sequence[str], seen: Visible
                     ) -> list[tuple[Ints, Freqs]]:
    probe: Ints | None = None
    if seen.docs is not None and seen.chunks * PROBE_ADVANTAGE < len(segment):
        probe = segment.chunks_of(seen.docs)
    matches = []
    for term in terms:
        ids, freqs = segment.posting(term)
        if probe is not None and len(probe) * PROBE_ADVANTAGE < len(ids):
            at = np.minimum(np.searchsorted(ids, probe), len(ids) - 1)
            hit = ids[at] == probe
            matches.append((probe[hit], freqs[at[hit]]))
        elif len(ids):
            keep = seen.mask[segment.chunks.doc[ids]]
            matches.append((ids[keep], freqs[keep]))
        else:
            matches.append((ids, freqs))
    return matches


def _accumulate(segment: Segment, per_term: list[tuple[Ints, Freqs]], idf: list[float],
                avg_terms: float, params: Bm25) -> tuple[Ints, Scores]:
    ids = np.concatenate([m[0] for m in per_term])
    if not len(ids):
        return ids, np.zeros(0)
    weights = np.concatenate([
        _weights(segment, chunk_ids, freqs, weight, avg_terms, params)
        for (chunk_ids, freqs), weight in zip(per_term, idf, strict=True)])
    if len(ids) * DENSE_SHARE > len(segment):
        dense = np.bincount(ids, weights=weights, minlength=len(segment))
        matched = np.zeros(len(segment), dtype=np.bool_)
        matched[ids] = True
        present = np.flatnonzero(matched).astype(np.int32)
        return present, np.asarray(dense[present], dtype=np.float64)
    unique, inverse = np.unique(ids, return_inverse=True)
    return unique.astype(np.int32), np.bincount(inverse, weights=weights).astype(np.float64)


def _weights(segment: Segment, ids: Ints, freqs: Freqs, idf: float, avg_terms: float,
             params: Bm25) -> npt.NDArray[np.float32]:
    tf = freqs.astype(np.float32)
    lengths = segment.chunks.length[ids].astype(np.float32)
    norm = params.k1 * (1 - params.b + params.b * lengths / np.float32(max(avg_terms, 1e-9)))
    weights = np.float32(idf * (params.k1 + 1)) * tf / (tf + norm)
    return weights.astype(np.float32, copy=False)


def best_of(scores: Scores, k: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` highest scores and of every score tied with the k-th, so that the
    final order (ties by position) never depends on how a partition split a tie."""
    if len(scores) <= k:
        return np.arange(len(scores))
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    return np.flatnonzero(scores >= kth)

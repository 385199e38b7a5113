"""Vector search and hybrid ranking. Nearest chunks by cosine (rows are unit vectors), exact
and over visible chunks only, like BM25; the two rankings are fused by reciprocal rank (RRF,
Cormack et al. 2009), which needs no score calibration between them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ztai.knowledge.ranking import Scored, Scores, best_of, top
from ztai.knowledge.segment import Floats, Ints, Segment
from ztai.knowledge.visibility import Visible

RRF_CONSTANT = 60
GATHER_SHARE = 4  # gather visible rows when at most a quarter of a segment is visible


def unit_rows(vectors: npt.NDArray[np.floating], dimension: int) -> Floats:
    """Rows scaled to unit length; ``ValueError`` for a wrong shape or a non-finite value."""
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2 or rows.shape[1] != dimension:
        raise ValueError(f"expected vectors of dimension {dimension}, got shape {rows.shape}")
    if not np.isfinite(rows).all():
        raise ValueError("vectors must be finite")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: Floats = (rows / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return unit


def nearest(segments: Sequence[Segment], query: Floats, seen: Visible, k: int) -> list[Scored]:
    """The ``k`` visible chunks closest to ``query`` (a unit vector), best first."""
    if seen.is_empty or k <= 0:
        return []
    found: list[tuple[Ints, Scores, int]] = []
    for number, segment in enumerate(segments):
        if segment.vectors is None or not len(segment):
            continue
        rows = np.flatnonzero(seen.mask[segment.chunks.doc]).astype(np.int32)
        if len(rows) * GATHER_SHARE < len(segment):
            similarity = (segment.vectors[rows] @ query).astype(np.float64)
        else:
            similarity = (segment.vectors @ query)[rows].astype(np.float64)
        best = best_of(similarity, k)
        found.append((rows[best], similarity[best], number))
    return top(found, k)


def fuse(rankings: Sequence[Sequence[Scored]], k: int) -> list[Scored]:
    """Reciprocal rank fusion: each ranking gives a chunk 1 / (60 + rank); best first."""
    fused: dict[tuple[int, int], float] = {}
    for ranking in rankings:
        for rank, scored in enumerate(ranking, start=1):
            key = (scored.segment, scored.position)
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_CONSTANT + rank)
    ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [Scored(segment, position, score) for (segment, position), score in ordered]

"""What one reader may see, computed before any term is scored: a mask over document numbers
(every party's refs grant it, the document lives, its label is within the clearance), and the
BM25 statistics of those documents alone, so that scores never depend on, and never reveal,
documents the reader cannot read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ztai.knowledge.access import Reader
from ztai.knowledge.doctable import DocTable
from ztai.knowledge.segment import Ints, Mask

FEW = 4  # "few visible": under a quarter of the chunks; ranking then probes postings with them


@dataclass(frozen=True, slots=True)
class Visible:
    mask: Mask  # by document number
    chunks: int  # chunks of visible documents
    avg_terms: float  # mean chunk length (in terms) over them
    docs: Ints | None  # visible document numbers, ascending; only when few are visible

    @property
    def is_empty(self) -> bool:
        return self.chunks == 0


def visible(table: DocTable, reader: Reader) -> Visible:
    """Raises whatever ``reader.clearance`` raises: a clearance that cannot decide denies all."""
    size = len(table)
    mask = np.asarray(table.alive.view(), dtype=np.bool_).copy()
    for party in reader.parties:
        granted = np.zeros(size, dtype=np.bool_)
        for ref in party:
            granted[table.readable_by(ref)] = True
        mask &= granted
    cleared = np.array([reader.clearance(label) is True for label in table.labels],
                       dtype=np.bool_)
    if len(cleared) and not cleared.all():
        mask &= cleared[table.label_id.view()]
    chunk_counts = table.chunks.view()
    chunks = int(np.sum(chunk_counts, where=mask))
    terms = int(np.sum(table.terms.view(), where=mask))
    few = chunks * FEW < table.live_chunks
    docs = np.flatnonzero(mask).astype(np.int32) if few else None
    return Visible(mask, chunks, terms / chunks if chunks else 0.0, docs)

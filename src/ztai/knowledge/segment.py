"""A segment: an immutable block of chunks with its inverted index (per term, the ascending
chunk positions and term frequencies, in CSR form) and the chunks' texts, offsets and, in a
hybrid index, unit vectors. Each chunk names its document by number; numbers ascend through a
segment, so a document's chunks are one contiguous run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int32]
Longs = npt.NDArray[np.int64]
Freqs = npt.NDArray[np.uint16]
Bytes = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]

_EMPTY = np.zeros(0, dtype=np.int32)
_EMPTY_FREQS = np.zeros(0, dtype=np.uint16)


@dataclass(frozen=True, slots=True)
class ChunkTable:
    """Per chunk: its document's number, its length in terms, its position in the document,
    its character span there, and its UTF-8 text (``text[text_offsets[i]:text_offsets[i+1]]``)."""

    doc: Ints
    length: Ints
    ordinal: Ints
    span: Ints  # shape (n, 2): start, end
    text: Bytes
    text_offsets: Longs

    def __len__(self) -> int:
        return len(self.doc)


@dataclass(frozen=True, slots=True)
class Segment:
    vocab: Mapping[str, int]  # term -> row of ``offsets``
    offsets: Longs  # len(vocab) + 1
    postings: Ints  # chunk positions, ascending within a term
    freqs: Freqs
    chunks: ChunkTable
    vectors: Floats | None = None  # (chunks, dimension), rows of unit length

    def __len__(self) -> int:
        return len(self.chunks)

    def posting(self, term: str) -> tuple[Ints, Freqs]:
        """The chunks holding ``term`` and how often; empty arrays when none do."""
        row = self.vocab.get(term)
        if row is None:
            return _EMPTY, _EMPTY_FREQS
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        return self.postings[start:end], self.freqs[start:end]

    def chunks_of(self, docs: Ints) -> Ints:
        """The positions of the chunks of ``docs`` (ascending doc numbers), ascending."""
        starts = np.searchsorted(self.chunks.doc, docs, side="left")
        ends = np.searchsorted(self.chunks.doc, docs, side="right")
        return ranges(starts, ends)


def ranges(starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]) -> Ints:
    """The concatenation of ``range(s, e)`` for each pair, vectorised."""
    sizes = ends - starts
    present = sizes > 0
    starts, sizes = starts[present], sizes[present]
    total = int(sizes.sum())
    if total == 0:
        return _EMPTY
    steps = np.ones(total, dtype=np.int32)
    firsts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=firsts[1:])
    steps[firsts] = starts.astype(np.int32)
    steps[firsts[1:]] -= (starts[:-1] + sizes[:-1] - 1).astype(np.int32)
    return np.cumsum(steps, dtype=np.int32)

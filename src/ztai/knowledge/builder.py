"""Building segments: ``SegmentBuilder`` turns chunks into a segment in one vectorised pass
(terms are counted per chunk, then postings sorted by term with a stable sort so chunk order
holds); ``merge`` joins segments in order, dropping the chunks of dead documents and
renumbering the living ones. Compaction and the bulk build both end here."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ztai.knowledge.analyzer import terms
from ztai.knowledge.segment import ChunkTable, Floats, Ints, Longs, Segment

MAX_FREQ = np.iinfo(np.uint16).max


class _Vocabulary(dict[str, int]):
    """Numbers terms in the order first seen."""

    def __missing__(self, term: str) -> int:
        number = self[term] = len(self)
        return number


class SegmentBuilder:
    """Accumulates chunks (in ascending document order) for one segment."""

    def __init__(self, dimension: int | None = None) -> None:
        self._vocab = _Vocabulary()
        self._terms = array("i")
        self._freqs = array("I")
        self._widths = array("i")
        self._doc, self._length, self._ordinal = array("i"), array("i"), array("i")
        self._span = array("i")
        self._text = bytearray()  # every chunk's UTF-8, back to back
        self._text_ends = array("q")
        self._vectors: list[Floats] = []
        self._dimension = dimension

    def __len__(self) -> int:
        return len(self._doc)

    def add(self, doc: int, ordinal: int, span: tuple[int, int], text: str) -> int:
        """Add one chunk; returns how many terms it has (its length for BM25)."""
        counts = Counter(terms(text))
        self._terms.extend(map(self._vocab.__getitem__, counts))
        self._freqs.extend(counts.values())
        self._widths.append(len(counts))
        length = sum(counts.values())
        self._doc.append(doc)
        self._length.append(length)
        self._ordinal.append(ordinal)
        self._span.extend(span)
        self._text += text.encode("utf-8")
        self._text_ends.append(len(self._text))
        return length

    def add_vectors(self, vectors: Floats) -> None:
        """Vectors of the chunks just added, in order (hybrid indexes only)."""
        self._vectors.append(vectors)

    def build(self) -> Segment:
        """The segment; the builder is spent afterwards (its buffers are released as they are
        turned into arrays, to keep a bulk build's peak memory down)."""
        chunk_count = len(self._doc)
        table = self._chunk_table()
        term_ids = np.frombuffer(self._terms, dtype=np.int32) if self._terms else \
            np.zeros(0, dtype=np.int32)
        order = np.argsort(term_ids, kind="stable")
        postings = np.repeat(np.arange(chunk_count, dtype=np.int32),
                             np.frombuffer(self._widths, dtype=np.int32))[order]
        freqs = np.minimum(np.frombuffer(self._freqs, dtype=np.uint32), MAX_FREQ)[order]
        del order
        return Segment(dict(self._vocab), _csr(term_ids, len(self._vocab)), postings,
                       freqs.astype(np.uint16), table, self._stacked_vectors(chunk_count))

    def _chunk_table(self) -> ChunkTable:
        offsets = np.zeros(len(self._text_ends) + 1, dtype=np.int64)
        offsets[1:] = np.frombuffer(self._text_ends, dtype=np.int64)
        return ChunkTable(doc=_ints(self._doc), length=_ints(self._length),
                          ordinal=_ints(self._ordinal), span=_ints(self._span).reshape(-1, 2),
                          text=np.frombuffer(self._text, dtype=np.uint8), text_offsets=offsets)

    def _stacked_vectors(self, chunk_count: int) -> Floats | None:
        if self._dimension is None:
            return None
        if not self._vectors:
            return np.zeros((0, self._dimension), dtype=np.float32)
        stacked = np.concatenate(self._vectors).astype(np.float32, copy=False)
        if stacked.shape != (chunk_count, self._dimension):
            raise ValueError(f"vectors of shape {stacked.shape} for {chunk_count} chunks")
        return stacked


def merge(segments: Sequence[Segment], renumber: Ints, dimension: int | None) -> Segment:
    """One segment holding the chunks of ``segments`` in order whose documents live:
    ``renumber[old]`` is a document's new number, -1 for a dead one (new numbers must ascend
    with old ones, so document order holds)."""
    vocab = _Vocabulary()
    parts: list[tuple[Ints, Ints, npt.NDArray[np.uint16]]] = []
    tables: list[ChunkTable] = []
    vectors: list[Floats] = []
    base = 0
    for segment in segments:
        new_doc = renumber[segment.chunks.doc]
        alive = new_doc >= 0
        new_position = (np.cumsum(alive, dtype=np.int64) - 1 + base).astype(np.int32)
        rows = np.repeat(np.arange(len(segment.vocab), dtype=np.int32),
                         np.diff(segment.offsets).astype(np.int64))
        kept = alive[segment.postings]
        to_merged = np.zeros(len(segment.vocab), dtype=np.int32)
        for term, row in segment.vocab.items():
            to_merged[row] = vocab[term]
        parts.append((to_merged[rows[kept]], new_position[segment.postings[kept]],
                      segment.freqs[kept]))
        tables.append(_kept(segment.chunks, alive, new_doc))
        if segment.vectors is not None:
            vectors.append(np.asarray(segment.vectors[alive], dtype=np.float32))
        base += int(alive.sum())
    stacked = None
    if dimension is not None:
        stacked = np.concatenate(vectors) if vectors else np.zeros((0, dimension), np.float32)
    return _assemble(list(vocab), parts, _concat_tables(tables), stacked)


def _assemble(names: list[str], parts: list[tuple[Ints, Ints, npt.NDArray[np.uint16]]],
              table: ChunkTable, vectors: Floats | None) -> Segment:
    """Terms without postings left are dropped; postings are sorted by term, stably."""
    term_ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    positions = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
    freqs = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.uint16)
    used = np.bincount(term_ids, minlength=len(names)) > 0
    compact_ids = (np.cumsum(used) - 1).astype(np.int32)
    vocab = {name: int(compact_ids[row]) for row, name in enumerate(names) if used[row]}
    term_ids = compact_ids[term_ids]
    order = np.argsort(term_ids, kind="stable")
    return Segment(vocab, _csr(term_ids, len(vocab)), positions[order], freqs[order], table,
                   vectors)


def _kept(table: ChunkTable, alive: npt.NDArray[np.bool_], new_doc: Ints) -> ChunkTable:
    if bool(alive.all()):
        return ChunkTable(new_doc.astype(np.int32), table.length, table.ordinal, table.span,
                          table.text, table.text_offsets)
    starts, ends = table.text_offsets[:-1][alive], table.text_offsets[1:][alive]
    blob = memoryview(np.ascontiguousarray(table.text).tobytes())
    texts = [blob[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return ChunkTable(new_doc[alive].astype(np.int32), table.length[alive],
                      table.ordinal[alive], table.span[alive],
                      np.frombuffer(b"".join(texts), dtype=np.uint8),
                      _offsets((ends - starts).tolist()))


def _concat_tables(tables: list[ChunkTable]) -> ChunkTable:
    if not tables:
        empty = np.zeros(0, np.int32)
        return ChunkTable(empty, empty, empty, np.zeros((0, 2), np.int32),
                          np.zeros(0, np.uint8), np.zeros(1, np.int64))
    lengths = np.concatenate([np.diff(t.text_offsets) for t in tables])
    return ChunkTable(
        np.concatenate([t.doc for t in tables]), np.concatenate([t.length for t in tables]),
        np.concatenate([t.ordinal for t in tables]), np.concatenate([t.span for t in tables]),
        np.concatenate([np.asarray(t.text) for t in tables]),
        _offsets(lengths.tolist()))


def _csr(term_ids: Ints, vocab_size: int) -> Longs:
    offsets = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_ids, minlength=vocab_size), out=offsets[1:])
    return offsets


def _ints(values: array[int]) -> Ints:
    return np.frombuffer(values, dtype=np.int32).copy()


def _offsets(lengths: Sequence[int] | list[int]) -> Longs:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets

"""The index in memory, free of I/O: a base segment (from the last snapshot), small segments
for what changed since, and the document table. Writers and readers apply the same operations
in the same order (from the journal), so every process that replays a journal holds the same
state. Deletes and permission changes act on the document table, so they apply at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ztai.knowledge.builder import SegmentBuilder, merge
from ztai.knowledge.chunker import Chunk
from ztai.knowledge.doctable import DocTable
from ztai.knowledge.model import DocumentId, DocumentRecord
from ztai.knowledge.segment import Floats, Ints, Segment

MAX_SMALL_SEGMENTS = 8


class State:
    def __init__(self, dimension: int | None) -> None:
        self.dimension = dimension
        self.table = DocTable()
        self.segments: list[Segment] = []
        self._pending: SegmentBuilder | None = None

    @classmethod
    def loaded(cls, base: Segment, records: Sequence[DocumentRecord],
               dimension: int | None) -> State:
        """State from a snapshot: ``records[i]`` is document number ``i`` of ``base``."""
        state = cls(dimension)
        terms = np.bincount(base.chunks.doc, weights=base.chunks.length,
                            minlength=len(records)).astype(np.int64)
        for record, count in zip(records, terms.tolist(), strict=True):
            state.table.add(record, int(count))
        state.segments.append(base)
        return state

    def add(self, record: DocumentRecord, chunks: Sequence[Chunk], vectors: Floats | None
            ) -> None:
        """Index a document's chunks (replacing any document of the same id)."""
        if self._pending is None:
            self._pending = SegmentBuilder(self.dimension)
        number = len(self.table)
        terms = sum(self._pending.add(number, c.ordinal, (c.start, c.end), c.text)
                    for c in chunks)
        if vectors is not None:
            self._pending.add_vectors(vectors)
        self.table.add(record, terms)

    def update(self, record: DocumentRecord) -> None:
        self.table.update(record)

    def delete(self, doc: DocumentId) -> bool:
        return self.table.kill(doc)

    def seal(self) -> None:
        """Make added chunks searchable: one new segment; many small ones are merged."""
        if self._pending is not None and len(self._pending):
            self.segments.append(self._pending.build())
        self._pending = None
        if len(self.segments) > MAX_SMALL_SEGMENTS + 1:
            alive = np.asarray(self.table.alive.view(), dtype=np.bool_)
            same = np.where(alive, np.arange(len(alive), dtype=np.int32), -1).astype(np.int32)
            self.segments[1:] = [merge(self.segments[1:], same, self.dimension)]

    def compacted(self) -> tuple[Segment, list[DocumentRecord]]:
        """One segment of the living documents, renumbered from 0, and their records."""
        self.seal()
        alive = np.asarray(self.table.alive.view(), dtype=np.bool_)
        if len(self.segments) == 1 and bool(alive.all()):
            return self.segments[0], list(self.table.records())  # numbered 0.. already
        renumber: Ints = np.where(alive, np.cumsum(alive) - 1, -1).astype(np.int32)
        return merge(self.segments, renumber, self.dimension), list(self.table.records())

    @property
    def changed_chunks(self) -> int:
        """Chunks outside the base segment: what the next compaction folds in."""
        return sum(len(s) for s in self.segments[1:])

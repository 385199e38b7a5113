"""A query, run against the state: terms and (in hybrid mode) a query vector, the reader's
visibility, exact filtered ranking, then hits with labels and citations. Every hit is checked
against the reader once more before it is returned: a disagreement is a bug and raises,
never returns a chunk."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ztai.core.errors import BadRequest
from ztai.knowledge.access import Reader
from ztai.knowledge.analyzer import terms
from ztai.knowledge.interface import Embedder, KnowledgeError
from ztai.knowledge.model import Citation, DocumentRecord, Hit
from ztai.knowledge.ranking import Bm25, Scored, bm25
from ztai.knowledge.state import State
from ztai.knowledge.vectors import fuse, nearest, unit_rows
from ztai.knowledge.visibility import visible

MAX_K = 1000
MAX_QUERY_CHARS = 16_384
MAX_QUERY_TERMS = 64  # distinct terms scored, in order of appearance; later ones are ignored
FUSION_DEPTH = 4  # hybrid: each ranking contributes k * 4 candidates (at least 50)


class SearchMode(StrEnum):
    BM25 = "bm25"
    VECTOR = "vector"
    HYBRID = "hybrid"  # BM25 and vectors fused; BM25 alone where the index has no vectors


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    reader: Reader
    k: int = 10
    mode: SearchMode = SearchMode.HYBRID

    def __post_init__(self) -> None:
        if not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise BadRequest(f"k must be between 1 and {MAX_K}", param="k")
        if not isinstance(self.text, str) or len(self.text) > MAX_QUERY_CHARS:
            raise BadRequest(f"query must be a string of at most {MAX_QUERY_CHARS} characters",
                             param="query")


def run(state: State, query: Query, embedder: Embedder | None, params: Bm25) -> list[Hit]:
    seen = visible(state.table, query.reader)
    vectors = embedder is not None and state.dimension is not None
    if query.mode is SearchMode.VECTOR and not vectors:
        raise BadRequest("this index has no vectors (or no embedder was given)", param="mode")
    lexical: list[Scored] = []
    depth = query.k if query.mode is SearchMode.BM25 or not vectors else max(
        query.k * FUSION_DEPTH, 50)
    if query.mode is not SearchMode.VECTOR:
        distinct = list(dict.fromkeys(terms(query.text)))[:MAX_QUERY_TERMS]
        lexical = bm25(state.segments, distinct, seen, depth, params)
    if query.mode is SearchMode.BM25 or embedder is None or state.dimension is None:
        return _hits(state, query.reader, lexical[: query.k])
    vector = unit_rows(embedder.embed([query.text]), state.dimension)[0]
    semantic = nearest(state.segments, vector, seen, depth)
    ranked = semantic[: query.k] if query.mode is SearchMode.VECTOR else fuse(
        [lexical, semantic], query.k)
    return _hits(state, query.reader, ranked)


def _hits(state: State, reader: Reader, ranked: list[Scored]) -> list[Hit]:
    """Hits for ranked chunks, in order; arrays are read once per segment, records checked
    once per document."""
    by_segment: dict[int, list[int]] = {}
    for scored in ranked:
        by_segment.setdefault(scored.segment, []).append(scored.position)
    rows: dict[tuple[int, int], tuple[int, int, int, int, str]] = {}
    for number, positions in by_segment.items():
        chunks = state.segments[number].chunks
        at = np.asarray(positions, dtype=np.int64)
        blob = chunks.text.data
        starts, ends = chunks.text_offsets[at].tolist(), chunks.text_offsets[at + 1].tolist()
        for position, doc, ordinal, (start, end), first, last in zip(
                positions, chunks.doc[at].tolist(), chunks.ordinal[at].tolist(),
                chunks.span[at].tolist(), starts, ends, strict=True):
            rows[number, position] = (doc, ordinal, start, end,
                                      str(blob[first:last], "utf-8"))
    checked: dict[int, DocumentRecord] = {}
    return [_hit(state, reader, checked, rows[s.segment, s.position], s.score) for s in ranked]


def _hit(state: State, reader: Reader, checked: dict[int, DocumentRecord],
         row: tuple[int, int, int, int, str], score: float) -> Hit:
    doc, ordinal, start, end, text = row
    record = checked.get(doc)
    if record is None:
        record = state.table.record(doc)
        if record is None or not reader.may_read(record.readers) or \
                reader.clearance(record.label) is not True:
            raise KnowledgeError("search produced a chunk its reader may not see")
        checked[doc] = record
    citation = Citation(record.id, record.title, record.source, ordinal, start, end)
    return Hit(citation, text, record.label, score)

"""The three changes an index knows, as journal operations, and how they apply to the state:
``add`` (a document's record, chunks and vectors), ``update`` (new metadata for unchanged
content), ``delete``. Writers apply what they journal through the same ``apply``."""

from __future__ import annotations

from typing import Any

from ztai.knowledge.chunker import Chunk
from ztai.knowledge.codec import (
    decode_chunks,
    decode_record,
    decode_vectors,
    encode_chunks,
    encode_record,
    encode_vectors,
)
from ztai.knowledge.ingest import Prepared
from ztai.knowledge.interface import IndexCorrupt
from ztai.knowledge.model import DocumentId, DocumentRecord
from ztai.knowledge.segment import Floats
from ztai.knowledge.state import State

Operation = dict[str, Any]


def add(record: DocumentRecord, chunks: tuple[Chunk, ...], vectors: Floats | None) -> Operation:
    return {"op": "add", "doc": encode_record(record), "chunks": encode_chunks(chunks),
            "vectors": encode_vectors(vectors)}


def update(record: DocumentRecord) -> Operation:
    return {"op": "update", "doc": encode_record(record)}


def delete(doc: DocumentId) -> Operation:
    return {"op": "delete", "id": doc}


def encode(prepared: Prepared) -> Operation:
    if prepared.chunks is None:
        return update(prepared.record)
    return add(prepared.record, prepared.chunks, prepared.vectors)


def apply_prepared(state: State, prepared: Prepared) -> None:
    """What ``apply(state, encode(prepared))`` does, without the round trip."""
    if prepared.chunks is None:
        state.update(prepared.record)
    else:
        state.add(prepared.record, prepared.chunks, prepared.vectors)


def apply(state: State, operation: Operation) -> None:
    """Apply one operation; call ``state.seal()`` after a run of them."""
    match operation.get("op"):
        case "add":
            chunks = decode_chunks(operation.get("chunks"))
            vectors = decode_vectors(operation.get("vectors"), len(chunks), state.dimension)
            state.add(decode_record(operation.get("doc")), chunks, vectors)
        case "update":
            record = decode_record(operation.get("doc"))
            if state.table.number(record.id) is None:
                raise IndexCorrupt(f"journal updates unknown document {record.id!r}")
            state.update(record)
        case "delete":
            doc = operation.get("id")
            if not isinstance(doc, str):
                raise IndexCorrupt("journal delete without an id")
            state.delete(DocumentId(doc))
        case other:
            raise IndexCorrupt(f"unknown journal operation {str(other)[:40]!r}")

"""Documents records and chunks to and from JSON-ready values, for the journal and snapshots.
Decoding is strict: a field of the wrong type is ``IndexCorrupt``, never a guess."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np

from ztai.knowledge.access import parse_acl, parse_owner
from ztai.knowledge.chunker import Chunk
from ztai.knowledge.interface import IndexCorrupt, InvalidDocument
from ztai.knowledge.model import DocumentId, DocumentRecord
from ztai.knowledge.segment import Floats


def encode_record(record: DocumentRecord) -> dict[str, Any]:
    return {
        "id": record.id, "acl": sorted(record.acl), "owner": record.owner,
        "title": record.title, "source": record.source, "label": record.label,
        "explicit_label": record.explicit_label, "content_hash": record.content_hash,
        "findings": dict(sorted(record.findings.items())),
        "fingerprints": _pack(record.fingerprints), "chunks": record.chunks,
    }


def decode_record(value: object, acls: dict[tuple[str, ...], frozenset[str]] | None = None
                  ) -> DocumentRecord:
    """``acls`` memoises checked ACLs across records: most documents share a few ACLs, so a
    snapshot loads faster and holds one set per distinct ACL."""
    if not isinstance(value, Mapping):
        raise IndexCorrupt("document record is not an object")
    try:
        raw_acl = tuple(_list(value["acl"]))
        acl = acls.get(raw_acl) if acls is not None else None
        if acl is None:
            acl = parse_acl(raw_acl)
            if acls is not None:
                acls[raw_acl] = acl
        findings = value["findings"]
        if not isinstance(findings, Mapping) or not all(
                isinstance(k, str) and type(n) is int for k, n in findings.items()):
            raise IndexCorrupt("document findings are not a map of counts")
        return DocumentRecord(
            id=DocumentId(_text(value["id"])), acl=acl,
            owner=parse_owner(value["owner"]), title=_text(value["title"]),
            source=_text(value["source"]), label=_optional(value["label"]),
            explicit_label=_optional(value["explicit_label"]),
            content_hash=_text(value["content_hash"]), findings=dict(findings),
            fingerprints=_unpack(_text(value["fingerprints"])), chunks=_count(value["chunks"]))
    except (KeyError, TypeError, InvalidDocument, ValueError) as exc:
        raise IndexCorrupt(f"bad document record: {exc}") from None


def encode_chunks(chunks: tuple[Chunk, ...]) -> list[list[Any]]:
    return [[c.ordinal, c.start, c.end, c.text] for c in chunks]


def decode_chunks(value: object) -> tuple[Chunk, ...]:
    rows = _list(value)
    chunks = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 4 and all(type(x) is int for x in row[:3])
                and isinstance(row[3], str)):
            raise IndexCorrupt("bad chunk in journal")
        chunks.append(Chunk(row[0], row[1], row[2], row[3]))
    return tuple(chunks)


def encode_vectors(vectors: Floats | None) -> str | None:
    if vectors is None:
        return None
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode()


def decode_vectors(value: object, rows: int, dimension: int | None) -> Floats | None:
    if value is None or dimension is None:
        if value is not None or dimension is not None:
            raise IndexCorrupt("journal vectors do not match the index's dimension")
        return None
    data = np.frombuffer(base64.b64decode(_text(value), validate=True), dtype="<f4")
    if data.size != rows * dimension:
        raise IndexCorrupt("journal vectors have the wrong size")
    return data.astype(np.float32).reshape(rows, dimension)


def _pack(values: tuple[int, ...]) -> str:
    return base64.b64encode(np.array(values, dtype="<u8").tobytes()).decode()


def _unpack(value: str) -> tuple[int, ...]:
    if not value:
        return ()
    data = base64.b64decode(value, validate=True)
    if len(data) % 8:
        raise IndexCorrupt("bad fingerprints")
    return tuple(int(v) for v in np.frombuffer(data, dtype="<u8"))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise IndexCorrupt(f"expected a string, got {type(value).__name__}")
    return value


def _optional(value: object) -> str | None:
    return None if value is None else _text(value)


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise IndexCorrupt(f"expected a list, got {type(value).__name__}")
    return value


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise IndexCorrupt("expected a count")
    return value

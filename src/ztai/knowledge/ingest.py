"""From a connector's document to a change of the index: validate it (fail closed on a bad
ref, an oversized text or a malformed classification), decide what changed against the stored
record, and only for new or changed text chunk, classify and embed it. A change of ACL, owner,
title or source alone is a metadata update: no re-tokenising."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from ztai.knowledge.access import parse_acl, parse_owner
from ztai.knowledge.chunker import Chunk, split
from ztai.knowledge.interface import DocumentClassifier, Embedder, InvalidDocument
from ztai.knowledge.model import Change, Classification, Document, DocumentId, DocumentRecord
from ztai.knowledge.segment import Floats
from ztai.knowledge.vectors import unit_rows

MAX_ID_CHARS = 1024
MAX_FIELD_CHARS = 1024
MAX_DOCUMENT_CHARS = 8_000_000
_MAX_HASH = 2**64


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """What is fixed when an index is created."""

    chunk_chars: int = 1200

    def __post_init__(self) -> None:
        if not 16 <= self.chunk_chars <= 100_000:
            raise ValueError("chunk_chars must be between 16 and 100000")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document's change: its new record and, when its text changed, its chunks (None for
    a metadata update or no change)."""

    change: Change
    record: DocumentRecord
    chunks: tuple[Chunk, ...] | None = None
    vectors: Floats | None = None


@dataclass(frozen=True, slots=True)
class Ingest:
    chunk_chars: int
    max_document_chars: int
    classifier: DocumentClassifier | None = None
    embedder: Embedder | None = None

    def prepare(self, document: Document, stored: DocumentRecord | None) -> Prepared:
        """What ``document`` changes against ``stored`` (its current record, if any)."""
        _validate(document, self.max_document_chars)
        try:
            digest = hashlib.sha256(document.text.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:
            raise InvalidDocument(f"document {document.id!r}: text is not valid Unicode "
                                  "(lone surrogates)") from None
        if stored is not None and stored.content_hash == digest:
            record = self._relabelled(document, stored)
            return Prepared(Change.UNCHANGED if record == stored else Change.METADATA, record)
        found = self._classify(document)
        chunks = tuple(split(document.text, self.chunk_chars))
        vectors = None
        if self.embedder is not None:
            vectors = unit_rows(self.embedder.embed([c.text for c in chunks]),
                                self.embedder.dimension) if chunks else \
                np.zeros((0, self.embedder.dimension), dtype=np.float32)
        record = DocumentRecord(
            document.id, document.acl, document.owner, document.title, document.source,
            found.label, document.label, digest, dict(found.findings), found.fingerprints,
            len(chunks))
        return Prepared(Change.ADDED if stored is None else Change.UPDATED, record, chunks,
                        vectors)

    def prepare_all(self, documents: Iterable[Document],
                    stored: Callable[[str], DocumentRecord | None],
                    refused: list[tuple[DocumentId, str]] | None = None) -> Iterator[Prepared]:
        """``prepare`` each document against its stored record or, when it came earlier in
        ``documents``, against that. A bad document raises ``InvalidDocument``, or, when
        ``refused`` is given, goes there with the reason."""
        earlier: dict[str, DocumentRecord] = {}
        for document in documents:
            try:
                prepared = self.prepare(document, earlier.get(document.id) or
                                        stored(document.id))
            except InvalidDocument as exc:
                if refused is None:
                    raise
                refused.append((document.id, exc.message))
                continue
            earlier[document.id] = prepared.record
            yield prepared

    def _relabelled(self, document: Document, stored: DocumentRecord) -> DocumentRecord:
        record = replace(stored, acl=document.acl, owner=document.owner, title=document.title,
                         source=document.source)
        if document.label == stored.explicit_label:
            return record
        found = self._classify(document)
        return replace(record, label=found.label, explicit_label=document.label,
                       findings=dict(found.findings), fingerprints=found.fingerprints)

    def _classify(self, document: Document) -> Classification:
        if self.classifier is None:
            return Classification(document.label)
        found = self.classifier.classify(document.text, document.label)
        _check(found)
        if found.label is None and document.label is not None:
            return replace(found, label=document.label)  # a classifier may not drop a label
        return found


def _validate(document: Document, max_chars: int) -> None:
    if not isinstance(document.id, str) or not 0 < len(document.id) <= MAX_ID_CHARS \
            or not document.id.isprintable():
        raise InvalidDocument("document id must be 1 to 1024 printable characters")
    if not isinstance(document.text, str) or len(document.text) > max_chars:
        raise InvalidDocument(f"document {document.id!r}: text must be a string of at most "
                              f"{max_chars} characters")
    for name in ("title", "source"):
        value = getattr(document, name)
        if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
            raise InvalidDocument(f"document {document.id!r}: {name} must be a string of at "
                                  f"most {MAX_FIELD_CHARS} characters")
    if document.label is not None and (not isinstance(document.label, str) or
                                       not 0 < len(document.label) <= 128):
        raise InvalidDocument(f"document {document.id!r}: label must be 1 to 128 characters")
    if not isinstance(document.acl, frozenset) or parse_acl(document.acl) != document.acl \
            or parse_owner(document.owner) != document.owner:
        raise InvalidDocument(f"document {document.id!r}: bad ACL")


def _check(found: Classification) -> None:
    """A classification the index can store, or ``InvalidDocument`` (the document is refused)."""
    if not (found.label is None or isinstance(found.label, str)) or not isinstance(
            found.findings, Mapping) or not all(
            isinstance(k, str) and type(n) is int and n >= 0 for k, n in found.findings.items()):
        raise InvalidDocument("the classifier returned a malformed classification")
    if not all(type(f) is int and 0 <= f < _MAX_HASH for f in found.fingerprints):
        raise InvalidDocument("the classifier returned fingerprints outside 0..2**64")

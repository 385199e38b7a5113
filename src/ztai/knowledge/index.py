"""``KnowledgeIndex``: the document index with permissions and labels. Writes are journaled
and synced before they apply, and apply at once (a delete or an ACL change is visible to the
very next search); ``compact`` folds the journal into a new snapshot. A read-only instance in
another process (the gateway) sees a writer's changes on ``refresh``. Any failure while applying
leaves the instance broken: every later call raises until it is opened again (fail closed)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Self

from ztai.knowledge import journal, operations, search, snapshot
from ztai.knowledge.access import Reader, parse_acl, parse_owner
from ztai.knowledge.authorize import authorize
from ztai.knowledge.builder import SegmentBuilder
from ztai.knowledge.generation import load, stored_dimension
from ztai.knowledge.ingest import MAX_DOCUMENT_CHARS, IndexSettings, Ingest, Prepared
from ztai.knowledge.interface import (
    DocumentClassifier,
    Embedder,
    KnowledgeError,
)
from ztai.knowledge.model import Authorization, Change, Document, DocumentId, DocumentRecord, Hit
from ztai.knowledge.operations import Operation
from ztai.knowledge.ranking import Bm25
from ztai.knowledge.search import Query, SearchMode
from ztai.knowledge.store import Directory

BATCH = 256  # operations per journal write (one fsync each)
DEFAULT_SETTINGS = IndexSettings()


@dataclass(frozen=True, slots=True)
class Options:
    """How an instance behaves (not stored in the index)."""

    classifier: DocumentClassifier | None = None
    embedder: Embedder | None = None
    bm25: Bm25 = field(default_factory=Bm25)
    max_document_chars: int = MAX_DOCUMENT_CHARS


@dataclass(frozen=True, slots=True)
class IndexStats:
    generation: int
    documents: int
    chunks: int
    segments: int
    unmerged_chunks: int  # outside the base segment: what the next compaction folds in
    disk_bytes: int


class KnowledgeIndex:
    def __init__(self, root: Path, options: Options, lock: IO[bytes] | None) -> None:
        self._dir = Directory(root)
        self._options = options
        self._lock = lock
        self._mutex = threading.Lock()
        self._broken: Exception | None = None
        try:
            if lock is not None:
                journal.cut_torn_tail(self._dir.journal(self._dir.generation()))
            self._live = load(self._dir, options.embedder, lock is not None)
        except Exception:
            self.close()
            raise

    @classmethod
    def create(cls, root: Path, settings: IndexSettings = DEFAULT_SETTINGS,
               options: Options | None = None) -> Self:
        """A new, empty index, open for writing; ``KnowledgeError`` if ``root`` holds one."""
        options = options or Options()
        directory = Directory(root)
        if (root / "CURRENT").exists():
            raise KnowledgeError(f"{root} already holds a knowledge index")
        lock = directory.lock()
        dimension = options.embedder.dimension if options.embedder is not None else None
        try:
            meta = snapshot.Meta(0, settings.chunk_chars, dimension)
            snapshot.write(directory.snapshot(0), meta, SegmentBuilder(dimension).build(), [])
            directory.publish(0)
        except Exception:
            lock.close()
            raise
        return cls(root, options, lock)

    @classmethod
    def open(cls, root: Path, options: Options | None = None, *, writable: bool = False) -> Self:
        """Open an index; a writer takes the lock (``IndexLocked`` if another holds it)."""
        return cls(root, options or Options(), Directory(root).lock() if writable else None)

    @staticmethod
    def vector_dimension(root: Path) -> int | None:
        """The width of the vectors the index at ``root`` holds (None: BM25 only), without
        opening it: an index with vectors needs its embedder to be written."""
        return stored_dimension(Directory(root))

    @classmethod
    def build(cls, root: Path, documents: Iterable[Document],
              settings: IndexSettings = DEFAULT_SETTINGS, options: Options | None = None) -> Self:
        """Bulk-load a new index: one snapshot written at the end, no journal."""
        index = cls.create(root, settings, options)
        try:
            index._upsert(documents, durable=False)
            index.compact()
        except Exception:
            index.close()
            raise
        return index

    # --- writes -----------------------------------------------------------------------------

    def upsert(self, documents: Iterable[Document],
               refused: list[tuple[DocumentId, str]] | None = None
               ) -> list[tuple[DocumentId, Change]]:
        """Add or replace documents. Only changed text is re-chunked and re-tokenised; a new
        ACL, owner, title or label is a metadata update. A bad document raises
        ``InvalidDocument`` (those before it stay indexed) or, when ``refused`` is given, is
        added to it with the reason and the rest go on."""
        return self._upsert(documents, durable=True, refused=refused)

    def delete(self, ids: Iterable[str]) -> list[DocumentId]:
        """Remove documents; returns those that existed."""
        with self._writing():
            found = [DocumentId(i) for i in dict.fromkeys(ids)
                     if self._live.state.table.number(i) is not None]
            if found:
                self._guarded(lambda: self._journal_and_apply([operations.delete(i)
                                                                for i in found]))
            return found

    def set_acl(self, doc: str, acl: Iterable[str], owner: str | None) -> bool:
        """Replace a document's ACL and owner without touching its text; False if unknown."""
        refs, owner = parse_acl(acl), parse_owner(owner)
        with self._writing():
            record = self._stored(doc)
            if record is None:
                return False
            if (record.acl, record.owner) != (refs, owner):
                update = operations.update(replace(record, acl=refs, owner=owner))
                self._guarded(lambda: self._journal_and_apply([update]))
            return True

    def compact(self) -> None:
        """Write the live state as a new snapshot and start an empty journal."""
        with self._writing():
            segment, records = self._live.state.compacted()
            generation = self._live.number + 1
            meta = replace(self._live.meta, generation=generation)
            snapshot.write(self._dir.snapshot(generation), meta, segment, records)
            self._dir.publish(generation)
            self._guarded(self._reload)

    # --- reads ------------------------------------------------------------------------------

    def search(self, query: str, reader: Reader, *, k: int = 10,
               mode: SearchMode = SearchMode.HYBRID) -> list[Hit]:
        """The ``k`` best chunks ``reader`` may read (ACL and label clearance), best first."""
        request = Query(query, reader, k, mode)
        with self._reading():
            return search.run(self._live.state, request, self._options.embedder,
                              self._options.bm25)

    def authorize(self, ids: Sequence[str], reader: Reader) -> Authorization:
        """Which of ``ids`` (e.g. candidates from a RAG app's own vector store) ``reader`` may
        read, with their labels, in the order given."""
        with self._reading():
            return authorize(self._live.state.table, ids, reader)

    def record(self, doc: str) -> DocumentRecord | None:
        with self._reading():
            return self._stored(doc)

    def records(self) -> list[DocumentRecord]:
        """Every living document's record (no text), for assessments."""
        with self._reading():
            return list(self._live.state.table.records())

    def stats(self) -> IndexStats:
        with self._reading():
            state = self._live.state
            return IndexStats(self._live.number, state.table.live, state.table.live_chunks,
                              len(state.segments), state.changed_chunks, self._dir.size())

    def refresh(self) -> bool:
        """Catch up with a writer in another process; True if anything changed. Cheap (two
        ``stat`` calls) when nothing did, so a server may call it per request."""
        with self._reading():
            if self._dir.generation() != self._live.number:
                self._guarded(self._reload)
                return True
            path = self._dir.journal(self._live.number)
            if path.stat().st_size <= self._live.offset:
                return False
            self._guarded(lambda: self._live.catch_up(path))
            return True

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------

    def _upsert(self, documents: Iterable[Document], durable: bool,
                refused: list[tuple[DocumentId, str]] | None = None
                ) -> list[tuple[DocumentId, Change]]:
        ingest = Ingest(self._live.meta.chunk_chars, self._options.max_document_chars,
                        self._options.classifier, self._options.embedder)
        changes: list[tuple[DocumentId, Change]] = []
        with self._writing():
            batch: list[Prepared] = []
            try:
                for prepared in ingest.prepare_all(documents, self._stored, refused):
                    changes.append((prepared.record.id, prepared.change))
                    if prepared.change is not Change.UNCHANGED:
                        batch.append(prepared)
                    if len(batch) >= BATCH:
                        self._commit(batch, durable, seal=False)
                        batch = []
            finally:
                self._commit(batch, durable)
        return changes

    def _stored(self, doc: str) -> DocumentRecord | None:
        number = self._live.state.table.number(doc)
        return None if number is None else self._live.state.table.record(number)

    def _commit(self, batch: Sequence[Prepared], durable: bool, seal: bool = True) -> None:
        """Journal (when ``durable``), then apply, a batch of changes."""
        def apply() -> None:
            if batch and durable:
                self._live.offset = journal.append(
                    self._dir.journal(self._live.number), [operations.encode(c) for c in batch])
            for change in batch:
                operations.apply_prepared(self._live.state, change)
            if seal:
                self._live.state.seal()
        self._guarded(apply)

    def _reload(self) -> None:
        self._live = load(self._dir, self._options.embedder, self._lock is not None)

    def _journal_and_apply(self, batch: list[Operation]) -> None:
        self._live.offset = journal.append(self._dir.journal(self._live.number), batch)
        for operation in batch:
            operations.apply(self._live.state, operation)
        self._live.state.seal()

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:
            self._broken = exc
            raise

    def _reading(self) -> _Section:
        return _Section(self, write=False)

    def _writing(self) -> _Section:
        return _Section(self, write=True)


class _Section:
    """The index's mutex, refusing a broken instance, and writes to a read-only one."""

    def __init__(self, index: KnowledgeIndex, write: bool) -> None:
        self._index, self._write = index, write

    def __enter__(self) -> None:
        index = self._index
        index._mutex.acquire()
        if index._broken is not None:
            index._mutex.release()
            raise KnowledgeError("the index failed earlier and must be opened again") \
                from index._broken
        if self._write and index._lock is None:
            index._mutex.release()
            raise KnowledgeError("the index was opened read-only")

    def __exit__(self, *_: object) -> None:
        self._index._mutex.release()

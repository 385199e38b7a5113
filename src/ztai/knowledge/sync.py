"""Bringing an index up to date with a connector: changed documents are upserted (only changed
text is re-tokenised), a document the index refuses is reported and the rest go on, and, once
the scan completed, documents of the scanned sources that it no longer delivered are deleted,
including those whose row was bad this time (their permissions are unknown: fail closed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from ztai.knowledge.connectors.rows import Skipped
from ztai.knowledge.index import KnowledgeIndex
from ztai.knowledge.model import Change, Document, DocumentId


class Scan(Protocol):
    skipped: list[Skipped]
    sources: set[str]

    def documents(self) -> Iterator[Document]: ...


@dataclass(frozen=True, slots=True)
class SyncReport:
    changes: dict[Change, int]
    deleted: tuple[DocumentId, ...]
    skipped: tuple[Skipped, ...]  # bad rows, unlisted files, documents the index refused


def sync(index: KnowledgeIndex, scan: Scan, prune: bool = True) -> SyncReport:
    """Raises (and deletes nothing) if the scan itself fails, e.g. an unreadable manifest."""
    refused: list[tuple[DocumentId, str]] = []
    changes = index.upsert(scan.documents(), refused)
    counts = Counter(change for _, change in changes)
    deleted: list[DocumentId] = []
    if prune:
        delivered = {doc for doc, _ in changes}
        deleted = index.delete(r.id for r in index.records()
                               if r.source in scan.sources and r.id not in delivered)
        if deleted:
            counts[Change.DELETED] = len(deleted)
    skipped = (*scan.skipped, *(Skipped(None, doc, reason) for doc, reason in refused))
    return SyncReport(dict(counts), tuple(deleted), skipped)

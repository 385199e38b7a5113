"""Values of the knowledge capability: documents as connectors deliver them, what the index
keeps about each, and what search and authorization answer (chunks with labels and citations)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

DocumentId = NewType("DocumentId", str)


@dataclass(frozen=True, slots=True)
class Document:
    """A document to index. ``acl`` holds principal refs (``user:alice``, ``group:obsidian``,
    ``everyone``); the ``owner`` (a ``user:`` ref) may always read it. ``label`` is the label the
    source gave it, if any; the injected classifier may raise it, never lower it."""

    id: DocumentId
    text: str
    acl: frozenset[str]
    owner: str | None = None
    title: str = ""
    source: str = ""
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """What the data-protection classifier says about a document's text."""

    label: str | None
    findings: Mapping[str, int] = field(default_factory=dict)  # finding kind -> count
    fingerprints: tuple[int, ...] = ()  # winnowed shingle hashes for DLP (never the text)


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """What the index keeps about a document besides its chunks: enough to authorize, cite and
    assess oversharing without reading the text again. ``label`` is the effective label,
    ``explicit_label`` the one the source gave."""

    id: DocumentId
    acl: frozenset[str]
    owner: str | None
    title: str
    source: str
    label: str | None
    explicit_label: str | None
    content_hash: str
    findings: Mapping[str, int] = field(default_factory=dict)
    fingerprints: tuple[int, ...] = ()
    chunks: int = 0

    @property
    def readers(self) -> frozenset[str]:
        """Every ref that may read the document: its ACL and its owner."""
        return self.acl | {self.owner} if self.owner else self.acl


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a chunk came from: ``start``/``end`` are character offsets in the document text."""

    document: DocumentId
    title: str
    source: str
    chunk: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Hit:
    citation: Citation
    text: str
    label: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Permitted:
    document: DocumentId
    label: str | None
    title: str


class DenialReason(StrEnum):
    UNKNOWN = "unknown"  # no such document (or deleted): indistinguishable from no access
    NO_ACCESS = "no_access"
    LABEL = "label"  # readable, but above the reader's clearance


@dataclass(frozen=True, slots=True)
class Authorization:
    """The permitted subset of candidate documents, in the order asked, and why the rest were
    not; callers should show a denied document to nobody and log the reasons only."""

    permitted: tuple[Permitted, ...]
    denied: tuple[tuple[DocumentId, DenialReason], ...] = ()


class Change(StrEnum):
    ADDED = "added"
    UPDATED = "updated"  # the text changed: re-chunked, re-tokenised, re-classified
    METADATA = "metadata"  # ACL, owner, title or label changed: no re-tokenising
    UNCHANGED = "unchanged"
    DELETED = "deleted"

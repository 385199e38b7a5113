"""What the knowledge index needs from its callers, as Protocols, and its error tree. The index
never imports the data-protection capability: whoever builds it injects a classifier (labels,
findings, fingerprints) and, for hybrid search, an embedder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ztai.core.errors import BadRequest, StoreUnavailable, ZtaiError
from ztai.knowledge.model import Classification

# Decides whether a reader is cleared for a label (None: the document has no label). The
# caller's policy owns the order of labels; the index only asks this question per label name.
LabelFilter = Callable[[str | None], bool]


class KnowledgeError(ZtaiError):
    """The index could not do what was asked; nothing was changed."""

    code = "knowledge_error"


class InvalidDocument(BadRequest):
    """A document or ACL that the index refuses (bad principal ref, oversized text, ...)."""

    code = "invalid_document"


class IndexCorrupt(StoreUnavailable):
    """The index directory holds something this version cannot trust; open fails closed."""

    code = "index_corrupt"


class IndexLocked(StoreUnavailable):
    """Another process holds the index open for writing."""

    code = "index_locked"


class DocumentClassifier(Protocol):
    def classify(self, text: str, explicit_label: str | None) -> Classification:
        """The document's effective label (never lower than ``explicit_label``), what kinds of
        sensitive content it holds, and its DLP fingerprints. Raises to refuse the document."""
        ...


class Embedder(Protocol):
    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text, ``dimension`` wide; the index normalises rows itself."""
        ...

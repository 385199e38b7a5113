"""Helpers for the knowledge tests: documents, readers, a deterministic embedder and a
classifier that counts its calls."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ztai.knowledge.access import LabelCeiling, Reader
from ztai.knowledge.analyzer import terms
from ztai.knowledge.model import Classification, Document, DocumentId

LABELS = ("Public", "General", "Confidential", "Highly Confidential")
ALL = LabelCeiling(LABELS, "Highly Confidential")


def doc(id: str, text: str, *acl: str, owner: str | None = None, label: str | None = None,
        title: str = "", source: str = "test") -> Document:
    return Document(DocumentId(id), text, frozenset(acl), owner, title or id, source, label)


def reader(*refs: str, up_to: str = "Highly Confidential") -> Reader:
    return Reader.of(refs, LabelCeiling(LABELS, up_to))


class HashingEmbedder:
    """Bag of words hashed into 64 dimensions: texts sharing words are close."""

    dimension = 64

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text):
                bucket = hashlib.blake2b(term.encode(), digest_size=2).digest()
                rows[row, int.from_bytes(bucket, "big") % self.dimension] += 1.0
            rows[row, 0] += 0.01  # never all zero
        return rows


@dataclass
class CountingClassifier:
    """Labels a text containing "secret" Highly Confidential; counts the texts it saw."""

    seen: list[str] = field(default_factory=list)

    def classify(self, text: str, explicit_label: str | None) -> Classification:
        self.seen.append(text)
        if "secret" in text:
            return Classification("Highly Confidential", {"secret.test": text.count("secret")},
                                  (1, 2, 3))
        return Classification(explicit_label)

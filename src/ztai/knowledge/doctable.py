"""Per-document state by document number: the record, whether it lives, its label, how many
chunks and terms it has, and, per principal ref, the documents that ref may read. A content
change gives a document a new number (its old chunks die with the old one); a permission
change keeps the number and only moves it between refs, so it costs no re-tokenising."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from ztai.knowledge.model import DocumentId, DocumentRecord
from ztai.knowledge.segment import Ints


class _Column:
    """A numpy column that grows by doubling; ``view`` is valid until the next append."""

    def __init__(self, dtype: type[np.generic]) -> None:
        self._data = np.zeros(64, dtype=dtype)
        self._size = 0

    def append(self, value: int | bool) -> None:
        if self._size == len(self._data):
            self._data = np.concatenate([self._data, np.zeros_like(self._data)])
        self._data[self._size] = value
        self._size += 1

    def set(self, index: int, value: int | bool) -> None:
        self._data[index] = value

    def view(self) -> npt.NDArray[np.generic]:
        return self._data[: self._size]


class DocTable:
    def __init__(self) -> None:
        self._records: list[DocumentRecord | None] = []
        self._numbers: dict[DocumentId, int] = {}
        self.alive = _Column(np.bool_)
        self.label_id = _Column(np.int32)
        self.chunks = _Column(np.int32)
        self.terms = _Column(np.int64)
        self.labels: list[str | None] = []
        self._label_ids: dict[str | None, int] = {}
        self._members: dict[str, set[int]] = {}
        self._arrays: dict[str, Ints] = {}

    def __len__(self) -> int:
        """Document numbers handed out, dead ones included."""
        return len(self._records)

    @property
    def live(self) -> int:
        return len(self._numbers)

    @property
    def live_chunks(self) -> int:
        alive = np.asarray(self.alive.view(), dtype=np.bool_)
        return int(np.sum(self.chunks.view(), where=alive))

    def number(self, doc: str) -> int | None:
        return self._numbers.get(DocumentId(doc))

    def record(self, number: int) -> DocumentRecord | None:
        return self._records[number]

    def records(self) -> Iterator[DocumentRecord]:
        """Living documents in number order."""
        return (r for r in self._records if r is not None)

    def add(self, record: DocumentRecord, terms: int) -> int:
        """A new number for ``record``; a document of the same id dies first."""
        self.kill(record.id)
        number = len(self._records)
        self._records.append(record)
        self._numbers[record.id] = number
        self.alive.append(True)
        self.label_id.append(self._label(record.label))
        self.chunks.append(record.chunks)
        self.terms.append(terms)
        self._grant(number, record.readers)
        return number

    def update(self, record: DocumentRecord) -> None:
        """New metadata for a living document with the same content."""
        number = self._numbers[record.id]
        old = self._records[number]
        if old is not None:
            self._revoke(number, old.readers - record.readers)
        self._grant(number, record.readers)
        self._records[number] = record
        self.label_id.set(number, self._label(record.label))

    def kill(self, doc: DocumentId) -> bool:
        number = self._numbers.pop(doc, None)
        if number is None:
            return False
        old = self._records[number]
        if old is not None:
            self._revoke(number, old.readers)
        self._records[number] = None
        self.alive.set(number, False)
        return True

    def readable_by(self, ref: str) -> Ints:
        """Numbers of the living documents ``ref`` may read, in no particular order."""
        cached = self._arrays.get(ref)
        if cached is None:
            members = self._members.get(ref, set())
            cached = np.fromiter(members, dtype=np.int32, count=len(members))
            self._arrays[ref] = cached
        return cached

    def refs(self) -> list[str]:
        return sorted(ref for ref, members in self._members.items() if members)

    def _label(self, label: str | None) -> int:
        if label not in self._label_ids:
            self._label_ids[label] = len(self.labels)
            self.labels.append(label)
        return self._label_ids[label]

    def _grant(self, number: int, refs: frozenset[str]) -> None:
        for ref in refs:
            self._members.setdefault(ref, set()).add(number)
            self._arrays.pop(ref, None)

    def _revoke(self, number: int, refs: frozenset[str]) -> None:
        for ref in refs:
            self._members.get(ref, set()).discard(number)
            self._arrays.pop(ref, None)

"""Document fingerprints: register protected documents, then recognise them when pasted whole
or in part. Texts are reduced to words (case, punctuation and spacing ignored); every run of
``SHINGLE_WORDS`` words is hashed; a registered document keeps the winnowed subset of its
hashes (Schleimer et al., SIGMOD 2003), which guarantees that any shared passage of at least
``SHINGLE_WORDS + WINDOW - 1`` words is seen. Linear in the text's length; the index holds
hashes only, never the documents."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ztai.protection.model import Match

SHINGLE_WORDS = 8
WINDOW = 4
KIND = "fingerprint.match"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DocumentMatch:
    document: str
    label: str | None
    shared: int  # fingerprints of the document found in the text
    coverage: float  # shared / the document's fingerprints
    start: int
    end: int


@dataclass(slots=True)
class FingerprintIndex:
    """Registered documents by id. ``min_shared`` fingerprints (and ``min_coverage`` of the
    document's) must be found for a match, so a common phrase does not trigger one."""

    min_shared: int = 3
    min_coverage: float = 0.0
    _by_hash: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    _documents: dict[str, tuple[frozenset[int], str | None]] = field(default_factory=dict)

    def add(self, document: str, text: str, label: str | None = None) -> int:
        """Register (or replace) a document; returns how many fingerprints it has."""
        return self.add_prints(document, winnow([h for h, _, _ in shingles(words(text))]),
                               label)

    def add_prints(self, document: str, prints: Iterable[int], label: str | None = None) -> int:
        """Register (or replace) a document by fingerprints computed elsewhere with
        ``winnow(shingles(words(text)))`` (a knowledge index keeps them, never the text)."""
        self.remove(document)
        held = frozenset(prints)
        self._documents[document] = (held, label)
        for value in held:
            self._by_hash[value].add(document)
        return len(held)

    def remove(self, document: str) -> bool:
        entry = self._documents.pop(document, None)
        if entry is None:
            return False
        for value in entry[0]:
            holders = self._by_hash.get(value)
            if holders is not None:
                holders.discard(document)
                if not holders:
                    del self._by_hash[value]
        return True

    def __len__(self) -> int:
        return len(self._documents)

    def find(self, text: str) -> list[DocumentMatch]:
        """The registered documents ``text`` contains enough of, best first."""
        hits: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for value, start, end in shingles(words(text)):
            for document in self._by_hash.get(value, ()):
                hits[document].append((value, start, end))
        found = [self._judge(doc, spans) for doc, spans in hits.items()]
        return sorted((m for m in found if m is not None), key=lambda m: -m.shared)

    def detect(self, text: str) -> list[Match]:
        return [
            Match(KIND, m.start, m.end, round(m.coverage, 4), f"fingerprint:{m.document}")
            for m in self.find(text)
        ]

    def _judge(self, document: str, spans: list[tuple[int, int, int]]) -> DocumentMatch | None:
        prints, label = self._documents[document]
        shared = len({value for value, _, _ in spans})
        coverage = shared / len(prints) if prints else 0.0
        if shared < self.min_shared or coverage < self.min_coverage:
            return None
        start, end = min(s for _, s, _ in spans), max(e for _, _, e in spans)
        return DocumentMatch(document, label, shared, coverage, start, end)


def words(text: str) -> list[Word]:
    """Alphanumeric runs, case-folded and compatibility-normalised, with their spans."""
    found, start = [], -1
    for i, char in enumerate(text):
        if char.isalnum():
            if start < 0:
                start = i
        elif start >= 0:
            found.append(_word(text, start, i))
            start = -1
    if start >= 0:
        found.append(_word(text, start, len(text)))
    return found


def shingles(tokens: list[Word]) -> Iterator[tuple[int, int, int]]:
    """(hash, start, end) of each run of ``SHINGLE_WORDS`` words."""
    for i in range(len(tokens) - SHINGLE_WORDS + 1):
        run = tokens[i : i + SHINGLE_WORDS]
        digest = hashlib.blake2b(" ".join(w.text for w in run).encode(), digest_size=8)
        yield int.from_bytes(digest.digest(), "big"), run[0].start, run[-1].end


def winnow(hashes: list[int]) -> list[int]:
    """The minimum of every window of ``WINDOW`` hashes (all of them for a short text)."""
    if len(hashes) <= WINDOW:
        return hashes
    return [min(hashes[i : i + WINDOW]) for i in range(len(hashes) - WINDOW + 1)]


def _word(text: str, start: int, end: int) -> Word:
    return Word(unicodedata.normalize("NFKC", text[start:end]).casefold(), start, end)

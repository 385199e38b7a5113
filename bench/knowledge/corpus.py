"""A seeded synthetic corpus that behaves like an enterprise document store for an inverted
index: words drawn from a Zipf–Mandelbrot distribution over a 200k-word vocabulary (its most
frequent ranks are real English function words, dropped by the analyzer as in real text),
sentences and paragraphs, documents of 1 to ~20 chunks, and ACLs shaped like an org chart:
every document readable by an auditors group, one of 100 department groups (department 0 holds
1% of documents, departments 0-9 together 10%), sometimes a project group, an owner, a label."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ztai.knowledge.analyzer import STOPWORDS
from ztai.knowledge.model import Document, DocumentId

LABELS = ("Public", "General", "Confidential", "Highly Confidential")
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
AUDITORS = "group:auditors"


@dataclass(frozen=True, slots=True)
class Corpus:
    vocabulary: np.ndarray  # words, with "." and ".\n\n" variants at +V and +2V
    probabilities: np.ndarray
    cumulative: np.ndarray
    seed: int

    @classmethod
    def make(cls, seed: int = 7, size: int = 200_000) -> Corpus:
        rng = np.random.default_rng(seed)
        words = sorted(STOPWORDS, key=lambda w: (len(w), w))
        seen = set(words)
        while len(words) < size:
            length = int(rng.integers(2, 5))
            word = "".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), length))
            if word not in seen:
                seen.add(word)
                words.append(word)
        ranks = np.arange(size, dtype=np.float64)
        probabilities = 1.0 / (ranks + 2.7) ** 1.07
        probabilities /= probabilities.sum()
        vocabulary = np.array(words + [w + "." for w in words] + [w + ".\n\n" for w in words],
                              dtype=object)
        return cls(vocabulary, probabilities, np.cumsum(probabilities), seed)

    @property
    def size(self) -> int:
        return len(self.probabilities)

    def documents(self, words: int, words_per_chunk: int) -> Iterator[Document]:
        """Documents until about ``words`` words were written."""
        rng = np.random.default_rng(self.seed + 1)
        written, number = 0, 0
        while written < words:
            chunks = min(1 + int(rng.geometric(0.28)) - 1, 24)
            count = chunks * words_per_chunk + int(rng.integers(-words_per_chunk // 3,
                                                                  words_per_chunk // 3))
            count = max(count, 5)
            ids = np.minimum(np.searchsorted(self.cumulative, rng.random(count)), self.size - 1)
            ends = rng.random(count) < 1 / 14
            paragraphs = ends & (rng.random(count) < 1 / 6)
            ids = ids + ends * self.size + paragraphs * self.size
            yield Document(DocumentId(f"doc-{number:07d}"), " ".join(self.vocabulary[ids]),
                           self._acl(rng), f"user:u{int(rng.integers(0, 20_000)):05d}",
                           f"Document {number}", "bench", LABELS[int(rng.choice(
                               4, p=(0.2, 0.5, 0.25, 0.05)))])
            written += count
            number += 1

    def queries(self, count: int, seed: int) -> list[str]:
        """2 to 4 words each, drawn like the text but without the function words."""
        rng = np.random.default_rng(seed)
        first = len(STOPWORDS)
        weights = self.probabilities[first:] / self.probabilities[first:].sum()
        return [" ".join(self.vocabulary[first + rng.choice(len(weights), size=int(
            rng.integers(2, 5)), p=weights)]) for _ in range(count)]

    @staticmethod
    def _acl(rng: np.random.Generator) -> frozenset[str]:
        draw = rng.random()
        if draw < 0.01:
            department = 0
        elif draw < 0.10:
            department = int(rng.integers(1, 10))
        else:
            department = int(rng.integers(10, 100))
        acl = {AUDITORS, f"group:dept-{department:03d}"}
        if rng.random() < 0.3:
            acl.add(f"group:project-{int(rng.integers(0, 1000)):04d}")
        return frozenset(acl)

"""The static embedding model ztai ships for hybrid search: one 128-wide row per WordPiece of
all-MiniLM-L6-v2's vocabulary, distilled from that sentence encoder (scripts/
distill_embeddings.py; provenance in data/static_embeddings.json). A text's vector is the mean of
its pieces' rows: numpy only, microseconds per text, no model call. It knows which words are
near in meaning ("car" and "automobile"), not how they combine: use it beside BM25 (hybrid
search), not instead of it."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ztai.knowledge.interface import KnowledgeError
from ztai.knowledge.wordpiece import WordPiece

MAX_PIECES = 4096  # per text: a chunk's vector is its first 4,096 pieces' mean


class StaticEmbedder:
    """``embed`` gives one row per text; a text with no known piece gets a zero row."""

    def __init__(self, vocab: Sequence[str], table: npt.NDArray[np.floating]) -> None:
        if table.ndim != 2 or table.shape[0] != len(vocab) or not len(vocab):
            raise ValueError("the table needs one row per vocabulary piece")
        self._table = np.asarray(table, dtype=np.float32)
        self._pieces = WordPiece(vocab)

    @classmethod
    def load(cls, path: Path | None = None) -> StaticEmbedder:
        """The shipped model, or the ``.npz`` at ``path`` (arrays ``table`` and ``vocab``)."""
        source = path or resources.files("ztai.knowledge") / "data" / "static_embeddings.npz"
        with source.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
            return cls([str(piece) for piece in data["vocab"]], data["table"])

    @property
    def dimension(self) -> int:
        return int(self._table.shape[1])

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        ids: list[int] = []
        counts = np.zeros(len(texts), dtype=np.int64)
        for row, text in enumerate(texts):
            known = [i for i in self._pieces.ids(text)[:MAX_PIECES] if i != self._pieces.unknown]
            ids.extend(known)
            counts[row] = len(known)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        filled = counts > 0
        if not filled.any():
            return out
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[filled]
        sums = np.add.reduceat(self._table[np.asarray(ids, dtype=np.int64)], starts, axis=0)
        out[filled] = sums / counts[filled, None]
        return out


def embedder_for(dimension: int | None) -> StaticEmbedder | None:
    """What an index whose vectors are ``dimension`` wide needs to be searched by vector and
    written: ztai's static model; None for an index without vectors. ``KnowledgeError`` for an
    index built with another model (of another width)."""
    if dimension is None:
        return None
    embedder = StaticEmbedder.load()
    if embedder.dimension != dimension:
        raise KnowledgeError(f"the index holds {dimension}-wide vectors; ztai's embedding model "
                             f"gives {embedder.dimension}: rebuild the index")
    return embedder

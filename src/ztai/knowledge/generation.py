"""A generation of the index in memory: its snapshot loaded, then its journal replayed, and
how far into the journal that went, so a reader can catch up with what a writer appends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ztai.knowledge import journal, operations, snapshot
from ztai.knowledge.interface import Embedder, IndexCorrupt, KnowledgeError
from ztai.knowledge.state import State
from ztai.knowledge.store import Directory

_T = TypeVar("_T")

_ATTEMPTS = 3


@dataclass(slots=True)
class Generation:
    number: int
    meta: snapshot.Meta
    state: State
    offset: int  # journal bytes applied

    def catch_up(self, path: Path) -> None:
        """Apply what was appended to the journal since ``offset``."""
        for operation, end in journal.replay(path, self.offset):
            operations.apply(self.state, operation)
            self.offset = end
        self.state.seal()


def load(directory: Directory, embedder: Embedder | None, writable: bool) -> Generation:
    """The live generation; retried when a writer publishes a newer one meanwhile."""
    def read(number: int) -> Generation:
        meta, base, records = snapshot.read(directory.snapshot(number))
        check_embedder(meta, embedder, writable)
        loaded = Generation(number, meta, State.loaded(base, records, meta.dimension), 0)
        loaded.catch_up(directory.journal(number))
        return loaded
    return _live(directory, read)


def stored_dimension(directory: Directory) -> int | None:
    """The width of the live generation's vectors (None: it has none), from its metadata only
    (an opener decides from it whether to load an embedder)."""
    return _live(directory, lambda number: snapshot.read_meta(directory.snapshot(number))
                 .dimension)


def _live(directory: Directory, read: Callable[[int], _T]) -> _T:
    """``read`` of the live generation, again if a writer published a newer one (and removed
    the files of the one being read) meanwhile."""
    number = -1
    for _ in range(_ATTEMPTS):
        number = directory.generation()
        try:
            return read(number)
        except FileNotFoundError:
            continue
    raise IndexCorrupt(f"{directory.root}: generation {number} is incomplete")


def check_embedder(meta: snapshot.Meta, embedder: Embedder | None, writable: bool) -> None:
    """An index with vectors needs its embedder to write (and to search by vector)."""
    if embedder is not None and embedder.dimension != meta.dimension:
        raise KnowledgeError(f"the embedder's dimension {embedder.dimension} does not match "
                             f"the index's ({meta.dimension})")
    if embedder is None and meta.dimension is not None and writable:
        raise KnowledgeError("this index holds vectors: writing to it needs its embedder")

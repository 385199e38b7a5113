"""Committing batches onto the chain: link them to the head, add a signed checkpoint when one is
due, append in one transaction. After any failure the head is re-read before the next batch, so
the chain stays gap-free whether or not the failed transaction reached the disk."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ztai.audit.anchor import append_anchor
from ztai.audit.chain import link
from ztai.audit.signing import CheckpointSigner
from ztai.core.clock import Clock
from ztai.storage.interface import AuditStore, SeqConflict
from ztai.storage.model import ChainedEntry, Checkpoint

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WriterOptions:
    """A checkpoint is signed every ``checkpoint_every`` entries or ``checkpoint_interval_s``
    seconds, whichever comes first; ``anchor_path`` also appends each one to an anchor file."""

    checkpoint_every: int = 256
    checkpoint_interval_s: float = 5.0
    max_batch: int = 512
    max_pending: int = 65_536
    anchor_path: Path | None = None

    def __post_init__(self) -> None:
        if min(self.checkpoint_every, self.max_batch, self.max_pending) < 1:
            raise ValueError("checkpoint_every, max_batch and max_pending must be at least 1")
        if not self.checkpoint_interval_s > 0:
            raise ValueError("checkpoint_interval_s must be positive")


class Committer:
    """Used by one thread at a time; every method may raise what the store raises."""

    def __init__(self, store: AuditStore, signer: CheckpointSigner | None, clock: Clock,
                 options: WriterOptions) -> None:
        self._store, self._signer, self._clock, self._options = store, signer, clock, options
        self._head: ChainedEntry | None = None
        self._anchored_seq = 0
        self._anchored_at = clock.monotonic()
        self._stale = True

    @property
    def is_current(self) -> bool:
        """False from a failed store operation until the head has been read again."""
        return not self._stale

    def load(self) -> None:
        """Read the chain head and the newest checkpoint from the store."""
        self._head = self._store.head()
        self._anchored_seq = max((c.seq for c in self._store.checkpoints()), default=0)
        self._stale = False

    def commit(self, payloads: Sequence[bytes]) -> list[int]:
        """Append ``payloads`` as the next entries; returns their seqs once durable.

        Another process (``ztai access ...`` run next to the server) may have appended since
        the head was read; its entries take those seqs and the append is refused. Then the
        head is read again and the batch linked after it, once."""
        if self._stale:
            self.load()
        try:
            return self._link_and_append(payloads)
        except SeqConflict:
            self.load()
            return self._link_and_append(payloads)

    def _link_and_append(self, payloads: Sequence[bytes]) -> list[int]:
        entries = link(self._head, payloads)
        self._append(entries, self._due(entries[-1], force=False))
        self._head = entries[-1]
        return [e.seq for e in entries]

    def checkpoint(self, *, force: bool) -> None:
        """Sign the head alone if it is unsigned and a checkpoint is due (or ``force``)."""
        if self._stale:
            self.load()
        if self._head is not None:
            self._append([], self._due(self._head, force=force))

    def _due(self, head: ChainedEntry, *, force: bool) -> Checkpoint | None:
        if self._signer is None or head.seq <= self._anchored_seq:
            return None
        waited = self._clock.monotonic() - self._anchored_at
        if force or waited >= self._options.checkpoint_interval_s or (
            head.seq - self._anchored_seq >= self._options.checkpoint_every
        ):
            return self._signer.sign(head.seq, head.hash, self._clock.now())
        return None

    def _append(self, entries: list[ChainedEntry], checkpoint: Checkpoint | None) -> None:
        if not entries and checkpoint is None:
            return
        try:
            self._store.append(entries, checkpoint)
        except BaseException:
            self._stale = True
            raise
        if checkpoint is not None:
            self._anchored_seq, self._anchored_at = checkpoint.seq, self._clock.monotonic()
            self._anchor(checkpoint)

    def _anchor(self, checkpoint: Checkpoint) -> None:
        # The events are durable already; a failing anchor file must not refuse requests.
        if self._options.anchor_path is None:
            return
        try:
            append_anchor(self._options.anchor_path, checkpoint)
        except OSError:
            _log.exception("could not append checkpoint %d to the anchor file", checkpoint.seq)

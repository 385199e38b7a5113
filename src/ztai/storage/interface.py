"""Store interfaces. Implementations raise ``StoreUnavailable`` when the backend cannot answer;
they never return a partial or guessed result."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from ztai.storage.model import ChainedEntry, Checkpoint, KeyRecord


class DuplicateKey(Exception):
    """A key with this id already exists."""


class KeyStore(Protocol):
    def put_key(self, record: KeyRecord) -> None:
        """Store a new key; raises ``DuplicateKey`` if its id exists."""
        ...

    def get_key(self, key_id: str) -> KeyRecord | None: ...

    def list_keys(self) -> list[KeyRecord]: ...

    def revoke_key(self, key_id: str, at: float) -> bool:
        """Mark a key revoked; False if there is no such key or it was already revoked."""
        ...

    def keys_version(self) -> int:
        """A number that changes whenever any key changes, so readers may cache safely."""
        ...


class AuditStore(Protocol):
    def append(self, entries: Sequence[ChainedEntry], checkpoint: Checkpoint | None) -> None:
        """Durably commit ``entries`` (and the checkpoint) in one transaction, or raise
        ``StoreUnavailable`` and commit nothing, also when an entry's or the checkpoint's seq
        is already stored (another writer got there first)."""
        ...

    def head(self) -> ChainedEntry | None:
        """The last entry, or None for an empty log."""
        ...

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[ChainedEntry]:
        """Entries with ``seq > after_seq`` in order, at most ``limit``; streams, so a log of
        millions of entries is never held in memory at once."""
        ...

    def checkpoints(self) -> list[Checkpoint]: ...

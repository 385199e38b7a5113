"""In-memory stores for tests and throwaway runs. Nothing survives the process."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence

from ztai.core.errors import StoreUnavailable
from ztai.storage.interface import DuplicateKey
from ztai.storage.model import ChainedEntry, Checkpoint, KeyRecord


class MemoryKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, KeyRecord] = {}
        self._version = 0
        self._lock = threading.Lock()

    def put_key(self, record: KeyRecord) -> None:
        with self._lock:
            if record.key_id in self._keys:
                raise DuplicateKey(record.key_id)
            self._keys[record.key_id] = record
            self._version += 1

    def get_key(self, key_id: str) -> KeyRecord | None:
        return self._keys.get(key_id)

    def list_keys(self) -> list[KeyRecord]:
        return sorted(self._keys.values(), key=lambda r: r.created_at)

    def revoke_key(self, key_id: str, at: float) -> bool:
        with self._lock:
            record = self._keys.get(key_id)
            if record is None or record.revoked_at is not None:
                return False
            self._keys[key_id] = dataclasses.replace(record, revoked_at=at)
            self._version += 1
            return True

    def keys_version(self) -> int:
        return self._version


class MemoryAuditStore:
    def __init__(self) -> None:
        self._entries: list[ChainedEntry] = []
        self._checkpoints: list[Checkpoint] = []
        self._lock = threading.Lock()

    def append(self, entries: Sequence[ChainedEntry], checkpoint: Checkpoint | None) -> None:
        with self._lock:
            self._refuse_stored(entries, checkpoint)
            self._entries.extend(entries)
            if checkpoint is not None:
                self._checkpoints.append(checkpoint)

    def _refuse_stored(self, entries: Sequence[ChainedEntry], cp: Checkpoint | None) -> None:
        """Like a primary key: a seq that is already stored fails the whole append."""
        last = self._entries[-1].seq if self._entries else 0
        if any(e.seq <= last for e in entries) or len({e.seq for e in entries}) < len(entries):
            raise StoreUnavailable("audit seq already stored")
        if cp is not None and any(c.seq == cp.seq for c in self._checkpoints):
            raise StoreUnavailable(f"audit checkpoint {cp.seq} already stored")

    def head(self) -> ChainedEntry | None:
        return self._entries[-1] if self._entries else None

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[ChainedEntry]:
        selected = [e for e in self._entries if e.seq > after_seq]
        return iter(selected if limit is None else selected[:limit])

    def checkpoints(self) -> list[Checkpoint]:
        return list(self._checkpoints)

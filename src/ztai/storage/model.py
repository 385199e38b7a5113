"""Rows the stores keep. Secrets are stored only as hashes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ztai.core.model import PrincipalKind


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    secret_hash: str
    principal: str
    kind: PrincipalKind
    groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    expires_at: float | None = None
    revoked_at: float | None = None
    description: str = ""

    def is_active(self, now: float) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """One audit event as stored: its canonical JSON and its place in the hash chain."""

    seq: int
    payload: bytes
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the chain had ``hash`` at ``seq``."""

    seq: int
    hash: str
    time: float
    key_id: str
    signature: str

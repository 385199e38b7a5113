"""Rows the stores keep. Secrets are stored only as hashes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


# --- Control state: agents, revocations, terms, risk, access grants -------------------------


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """A registered agent: who sponsors it, the public key it signs with, what it may call.
    ``public_jwk`` is stored as JSON, so it must hold only JSON values (lists, not tuples)."""

    agent_id: str
    sponsor: str
    public_jwk: Mapping[str, Any]
    allowed_models: frozenset[str]
    groups: frozenset[str] = frozenset()
    created_at: float = 0.0
    expires_at: float | None = None
    disabled: bool = False
    description: str = ""

    def is_active(self, now: float) -> bool:
        if self.disabled:
            return False
        return self.expires_at is None or now < self.expires_at


class RevocationKind(StrEnum):
    TOKEN = "token"  # noqa: S105  # a kind of subject, not a secret
    SESSION = "session"
    USER = "user"
    AGENT = "agent"
    SERVICE = "service"
    KEY = "key"


@dataclass(frozen=True, slots=True)
class Revocation:
    """``subject`` of ``kind`` is revoked since ``at``. ``until`` (for tokens and sessions, their
    own expiry) is when the revocation stops mattering and may be pruned; None keeps it."""

    kind: RevocationKind
    subject: str
    at: float
    until: float | None = None
    reason: str = ""
    by: str = ""


@dataclass(frozen=True, slots=True)
class TermsAcceptance:
    """``principal`` (a "kind:id" reference such as "user:alice") accepted ``app``'s terms."""

    principal: str
    app: str
    version: str
    at: float


class RiskLevel(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MODERATE = "moderate"
    ELEVATED = "elevated"


@dataclass(frozen=True, slots=True)
class RiskRecord:
    """A risk level set for ``principal``; a plain string level is checked and converted."""

    principal: str
    level: RiskLevel
    reason: str
    set_by: str
    at: float

    def __post_init__(self) -> None:
        # Raises ValueError for a level that is not a RiskLevel.
        object.__setattr__(self, "level", RiskLevel(self.level))


class GrantStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """A request for ``role`` for ``duration_s`` seconds, and its decision. The request fields
    (principal to requested_at) never change once stored; the decision fields do."""

    grant_id: str
    principal: str
    role: str
    reason: str
    duration_s: float
    requested_at: float
    status: GrantStatus = GrantStatus.PENDING
    decided_by: str | None = None
    decided_at: float | None = None
    expires_at: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise ValueError(f"grant {self.grant_id}: duration_s must be positive and finite")

    def is_same_request(self, other: AccessGrant) -> bool:
        """True if ``other`` is the same request (whatever either's decision)."""
        return _request(self) == _request(other)

    def is_active(self, now: float) -> bool:
        return (self.status == GrantStatus.APPROVED and self.expires_at is not None
                and now < self.expires_at)


def _request(grant: AccessGrant) -> tuple[object, ...]:
    return (grant.grant_id, grant.principal, grant.role, grant.reason, grant.duration_s,
            grant.requested_at)


# --- Held calls: agent actions waiting for a person's approval ---------------------------------


class HeldStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class HeldCall:
    """A call held for a person's approval. ``principal`` and ``chain`` are "kind:id" refs (the
    delegation chain, original principal first); ``summary`` says what the call would do (tool,
    server, reasons, destinations), never raw argument values unless configured. The call fields
    (id to expires_at) never change once stored; the decision fields (status to notify_error)
    do. ``notify_error`` says why telling the approvers failed, empty when it did not."""

    id: str
    principal: str
    chain: tuple[str, ...]
    action: str
    resource: str
    summary: Mapping[str, str]
    created_at: float
    expires_at: float
    status: HeldStatus = HeldStatus.PENDING
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str = ""
    notify_error: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", HeldStatus(self.status))
        object.__setattr__(self, "chain", tuple(self.chain))
        if not (math.isfinite(self.expires_at) and self.expires_at >= self.created_at):
            raise ValueError(f"held call {self.id}: expires_at must be finite, not before "
                             "created_at")

    def is_same_call(self, other: HeldCall) -> bool:
        """True if ``other`` is the same call (whatever either's decision)."""
        return _call(self) == _call(other)


def _call(held: HeldCall) -> tuple[object, ...]:
    return (held.id, held.principal, held.chain, held.action, held.resource,
            dict(held.summary), held.created_at, held.expires_at)


# --- Risk monitoring: alerts, their deliveries, the monitor's cursor and state -----------------


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # the level decayed back to none by itself
    DISMISSED = "dismissed"  # an analyst judged it a false positive


@dataclass(frozen=True, slots=True)
class AlertEvidence:
    """One audit event that raised an alert: where it is in the log (``seq``, ``event_id``), what
    it was, and the points each indicator gave it. Never content."""

    seq: int
    event_id: str
    time: float
    action: str
    resource: str
    decision: str
    points: Mapping[str, float] = field(default_factory=dict)
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A risk alert about ``principal`` ("kind:id"). ``revision`` grows with every change the
    monitor makes (raise, escalation, resolution); an analyst's close does not reopen it."""

    alert_id: str
    principal: str
    level: RiskLevel
    score: float
    status: AlertStatus
    raised_at: float
    updated_at: float
    revision: int
    indicators: Mapping[str, float] = field(default_factory=dict)  # points per indicator
    evidence: tuple[AlertEvidence, ...] = ()
    closed_by: str = ""
    closed_at: float | None = None
    close_reason: str = ""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the configured number of attempts


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """Sending revision ``revision`` of an alert to one sink; failures stay recorded."""

    alert_id: str
    revision: int
    sink: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class MonitorCheckpoint:
    """How far the monitor has read the audit log (``cursor``, an audit seq) and its state at
    that point: opaque blobs per principal and per peer group, owned by ``ztai.monitoring``."""

    cursor: int = 0
    principals: Mapping[str, bytes] = field(default_factory=dict)
    groups: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MonitorSave:
    """What one monitor step commits at once: the cursor moves from ``expected_cursor`` to
    ``cursor`` together with the changed state blobs, alerts and new deliveries."""

    expected_cursor: int
    cursor: int
    principals: Mapping[str, bytes] = field(default_factory=dict)
    groups: Mapping[str, bytes] = field(default_factory=dict)
    alerts: tuple[AlertRecord, ...] = ()
    deliveries: tuple[AlertDelivery, ...] = ()

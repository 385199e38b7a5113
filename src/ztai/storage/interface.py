"""Store interfaces. Implementations raise ``StoreUnavailable`` when the backend cannot answer;
they never return a partial or guessed result."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from ztai.core.errors import StoreUnavailable
from ztai.storage.model import (
    AccessGrant,
    AgentRecord,
    AlertDelivery,
    AlertRecord,
    AlertStatus,
    ChainedEntry,
    Checkpoint,
    GrantStatus,
    HeldCall,
    HeldStatus,
    KeyRecord,
    MonitorCheckpoint,
    MonitorSave,
    Revocation,
    RevocationKind,
    RiskRecord,
    TermsAcceptance,
)


class SeqConflict(StoreUnavailable):
    """Another writer appended these audit seqs first: read the head again and re-link."""


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


# --- Control state ----------------------------------------------------------------------------
# Every write that changes stored state bumps one shared ``control_version`` in the same
# transaction; reads and writes that change nothing never do.


class ControlState(Protocol):
    def control_version(self) -> int:
        """A number that changes whenever any agent, revocation, terms acceptance, risk record
        or grant changes, so readers may cache all of them safely."""
        ...


class AgentStore(Protocol):
    def put_agent(self, record: AgentRecord) -> None:
        """Store a new agent; raises ``DuplicateKey`` if its id exists, and ``TypeError`` (storing
        nothing) if ``public_jwk`` holds a value that is not JSON."""
        ...

    def get_agent(self, agent_id: str) -> AgentRecord | None: ...

    def list_agents(self) -> list[AgentRecord]:
        """All agents, oldest first (ties by id)."""
        ...

    def set_agent_disabled(self, agent_id: str, disabled: bool) -> bool:
        """False if there is no such agent or it already was in that state."""
        ...

    def delete_agent(self, agent_id: str) -> bool:
        """False if there is no such agent."""
        ...


class RevocationStore(Protocol):
    def revoke(self, revocation: Revocation) -> None:
        """Store the revocation, replacing any earlier one for the same (kind, subject)."""
        ...

    def unrevoke(self, kind: RevocationKind, subject: str) -> bool:
        """Lift a revocation (to re-enable a user, say); False if there was none."""
        ...

    def revocations(self) -> list[Revocation]:
        """All revocations in force or not yet pruned, ordered by ``at`` (ties by kind, subject)."""
        ...

    def prune_revocations(self, now: float) -> int:
        """Delete the revocations whose ``until`` is at or before ``now``; returns how many."""
        ...


class TermsStore(Protocol):
    def accept_terms(self, acceptance: TermsAcceptance) -> None:
        """Record an acceptance; accepting the same (principal, app, version) again keeps the
        first one (and its time) and is not a write."""
        ...

    def terms_acceptances(self) -> list[TermsAcceptance]:
        """All acceptances ordered by ``at`` (ties by principal, app, version)."""
        ...


class RiskStore(Protocol):
    def set_risk(self, record: RiskRecord) -> None:
        """Append to the principal's history. The latest record (greatest ``at``; on a tie the
        one set last) is the principal's current level."""
        ...

    def risk_levels(self) -> dict[str, RiskRecord]:
        """The current record for each principal that has one, keyed by principal."""
        ...

    def risk_history(self, principal: str) -> list[RiskRecord]:
        """Every record set for ``principal``, ordered by ``at`` (ties in the order set)."""
        ...


class GrantStore(Protocol):
    def put_grant(self, grant: AccessGrant) -> None:
        """Store a new grant; raises ``DuplicateKey`` if its id exists."""
        ...

    def update_grant(self, grant: AccessGrant, expected_status: GrantStatus) -> bool:
        """Compare-and-set: write ``grant``'s decision fields (status, decided_by, decided_at,
        expires_at, note) only if the stored status is ``expected_status``, so of two racing
        approvers exactly one decides. False if there is no such grant or the status differs;
        raises ``ValueError`` (writing nothing) if ``grant`` changes the request fields."""
        ...

    def get_grant(self, grant_id: str) -> AccessGrant | None: ...

    def list_grants(self) -> list[AccessGrant]:
        """All grants, oldest request first (ties by id)."""
        ...


class ControlStore(AgentStore, RevocationStore, TermsStore, RiskStore, GrantStore, ControlState,
                   Protocol):
    """Everything the verify-explicitly and least-privilege controls keep, in one backend."""


class ApprovalStore(Protocol):
    """Calls held for a person's approval. Not part of the control state: writing one never
    changes ``control_version``."""

    def put_held(self, call: HeldCall) -> None:
        """Store a new held call; raises ``DuplicateKey`` if its id exists."""
        ...

    def get_held(self, call_id: str) -> HeldCall | None: ...

    def update_held(self, call: HeldCall, expected_status: HeldStatus) -> bool:
        """Compare-and-set: write ``call``'s decision fields (status, decided_by, decided_at,
        reason, notify_error) only if the stored status is ``expected_status``, so of two racing
        deciders exactly one decides. False if there is no such call or the status differs;
        raises ``ValueError`` (writing nothing) if ``call`` changes the call fields."""
        ...

    def list_held(self, status: HeldStatus | None = None) -> list[HeldCall]:
        """The held calls with ``status`` (all when None), oldest first (ties by id)."""
        ...


# --- Risk monitoring ---------------------------------------------------------------------------


class CursorMoved(StoreUnavailable):
    """Another monitor moved the cursor first: reload the checkpoint, never double-count."""


class MonitorStateStore(Protocol):
    def monitor_checkpoint(self) -> MonitorCheckpoint:
        """The cursor (0 before the first save) and every state blob saved so far."""
        ...

    def save_monitor(self, save: MonitorSave) -> None:
        """In one transaction: move the cursor, replace the given state blobs, store the alerts
        and add the deliveries. Raises ``CursorMoved`` (storing nothing) if the stored cursor is
        not ``save.expected_cursor``. An alert no longer open (an analyst closed it) is kept as
        it is, and deliveries of revisions that were not stored are dropped; a new delivery
        replaces the older pending ones of the same alert and sink."""
        ...


class AlertStore(Protocol):
    def get_alert(self, alert_id: str) -> AlertRecord | None: ...

    def list_alerts(self, status: AlertStatus | None = None, limit: int = 100
                    ) -> list[AlertRecord]:
        """Newest first (by ``raised_at``, ties by id), at most ``limit``."""
        ...

    def close_alert(self, alert_id: str, status: AlertStatus, by: str, reason: str,
                    at: float) -> AlertRecord | None:
        """Close an open alert; None (changing nothing) if there is none or it is not open."""
        ...


class DeliveryStore(Protocol):
    def pending_deliveries(self, now: float, limit: int) -> list[AlertDelivery]:
        """Pending deliveries due at ``now`` (``next_at <= now``), oldest first."""
        ...

    def record_delivery(self, delivery: AlertDelivery) -> None:
        """Store an attempt's outcome over the row with the same alert, revision and sink."""
        ...

    def deliveries(self, alert_id: str) -> list[AlertDelivery]:
        """Every delivery of the alert, by revision then sink."""
        ...


class MonitorStore(MonitorStateStore, AlertStore, DeliveryStore, Protocol):
    """What the risk monitor keeps, in one backend."""

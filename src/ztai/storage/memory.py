"""In-memory stores for tests and throwaway runs. Nothing survives the process."""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections.abc import Iterator, Sequence

import orjson

from ztai.storage.interface import CursorMoved, DuplicateKey, SeqConflict
from ztai.storage.model import (
    AccessGrant,
    AgentRecord,
    AlertDelivery,
    AlertRecord,
    AlertStatus,
    ChainedEntry,
    Checkpoint,
    DeliveryStatus,
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
            raise SeqConflict("audit seq already stored")
        if cp is not None and any(c.seq == cp.seq for c in self._checkpoints):
            raise SeqConflict(f"audit checkpoint {cp.seq} already stored")

    def head(self) -> ChainedEntry | None:
        return self._entries[-1] if self._entries else None

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[ChainedEntry]:
        selected = [e for e in self._entries if e.seq > after_seq]
        return iter(selected if limit is None else selected[:limit])

    def checkpoints(self) -> list[Checkpoint]:
        return list(self._checkpoints)


class MemoryControlStore:
    """Agents, revocations, terms acceptances, risk and grants in dicts under one lock. The
    JWK goes through JSON as in every other backend, so what reads back is the same."""

    def __init__(self) -> None:
        self._agents: dict[str, AgentRecord] = {}
        self._revocations: dict[tuple[RevocationKind, str], Revocation] = {}
        self._terms: dict[tuple[str, str, str], TermsAcceptance] = {}
        self._risk: dict[str, list[RiskRecord]] = {}  # each ordered by at, ties as set
        self._grants: dict[str, AccessGrant] = {}
        self._version = 0
        self._lock = threading.Lock()

    def control_version(self) -> int:
        return self._version

    # --- AgentStore ---

    def put_agent(self, record: AgentRecord) -> None:
        jwk = orjson.loads(orjson.dumps(dict(record.public_jwk)))
        with self._lock:
            if record.agent_id in self._agents:
                raise DuplicateKey(record.agent_id)
            self._agents[record.agent_id] = dataclasses.replace(record, public_jwk=jwk)
            self._version += 1

    def get_agent(self, agent_id: str) -> AgentRecord | None:
        with self._lock:
            return self._agents.get(agent_id)

    def list_agents(self) -> list[AgentRecord]:
        with self._lock:
            return sorted(self._agents.values(), key=lambda r: (r.created_at, r.agent_id))

    def set_agent_disabled(self, agent_id: str, disabled: bool) -> bool:
        with self._lock:
            record = self._agents.get(agent_id)
            if record is None or record.disabled == disabled:
                return False
            self._agents[agent_id] = dataclasses.replace(record, disabled=disabled)
            self._version += 1
            return True

    def delete_agent(self, agent_id: str) -> bool:
        with self._lock:
            if self._agents.pop(agent_id, None) is None:
                return False
            self._version += 1
            return True

    # --- RevocationStore ---

    def revoke(self, revocation: Revocation) -> None:
        key = (revocation.kind, revocation.subject)
        with self._lock:
            if self._revocations.get(key) != revocation:
                self._revocations[key] = revocation
                self._version += 1

    def unrevoke(self, kind: RevocationKind, subject: str) -> bool:
        with self._lock:
            if self._revocations.pop((kind, subject), None) is None:
                return False
            self._version += 1
            return True

    def revocations(self) -> list[Revocation]:
        with self._lock:
            return sorted(self._revocations.values(), key=lambda r: (r.at, r.kind, r.subject))

    def prune_revocations(self, now: float) -> int:
        with self._lock:
            spent = [k for k, r in self._revocations.items()
                     if r.until is not None and r.until <= now]
            for key in spent:
                del self._revocations[key]
            if spent:
                self._version += 1
            return len(spent)

    # --- TermsStore ---

    def accept_terms(self, acceptance: TermsAcceptance) -> None:
        key = (acceptance.principal, acceptance.app, acceptance.version)
        with self._lock:
            if key not in self._terms:
                self._terms[key] = acceptance
                self._version += 1

    def terms_acceptances(self) -> list[TermsAcceptance]:
        with self._lock:
            return sorted(self._terms.values(),
                          key=lambda t: (t.at, t.principal, t.app, t.version))

    # --- RiskStore ---

    def set_risk(self, record: RiskRecord) -> None:
        with self._lock:
            # insort keeps equal ``at`` in the order set, so the last record is the current one.
            bisect.insort(self._risk.setdefault(record.principal, []), record, key=_at)
            self._version += 1

    def risk_levels(self) -> dict[str, RiskRecord]:
        with self._lock:
            return {principal: history[-1] for principal, history in self._risk.items()}

    def risk_history(self, principal: str) -> list[RiskRecord]:
        with self._lock:
            return list(self._risk.get(principal, ()))

    # --- GrantStore ---

    def put_grant(self, grant: AccessGrant) -> None:
        with self._lock:
            if grant.grant_id in self._grants:
                raise DuplicateKey(grant.grant_id)
            self._grants[grant.grant_id] = grant
            self._version += 1

    def update_grant(self, grant: AccessGrant, expected_status: GrantStatus) -> bool:
        with self._lock:
            stored = self._grants.get(grant.grant_id)
            if stored is None:
                return False
            if not stored.is_same_request(grant):
                raise ValueError(f"grant {grant.grant_id}: the request itself cannot change")
            if stored.status != expected_status:
                return False
            if stored != grant:
                self._grants[grant.grant_id] = grant
                self._version += 1
            return True

    def get_grant(self, grant_id: str) -> AccessGrant | None:
        with self._lock:
            return self._grants.get(grant_id)

    def list_grants(self) -> list[AccessGrant]:
        with self._lock:
            return sorted(self._grants.values(), key=lambda g: (g.requested_at, g.grant_id))


def _at(record: RiskRecord) -> float:
    return record.at


class MemoryMonitorStore:
    """The risk monitor's cursor, state blobs, alerts and deliveries under one lock."""

    def __init__(self) -> None:
        self._cursor = 0
        self._principals: dict[str, bytes] = {}
        self._groups: dict[str, bytes] = {}
        self._alerts: dict[str, AlertRecord] = {}
        self._deliveries: dict[tuple[str, int, str], AlertDelivery] = {}
        self._lock = threading.Lock()

    def monitor_checkpoint(self) -> MonitorCheckpoint:
        with self._lock:
            return MonitorCheckpoint(self._cursor, dict(self._principals), dict(self._groups))

    def save_monitor(self, save: MonitorSave) -> None:
        with self._lock:
            if self._cursor != save.expected_cursor:
                raise CursorMoved(f"monitor cursor is {self._cursor}, not {save.expected_cursor}")
            self._cursor = save.cursor
            self._principals.update(save.principals)
            self._groups.update(save.groups)
            for alert in save.alerts:
                stored = self._alerts.get(alert.alert_id)
                if stored is None or (stored.status is AlertStatus.OPEN
                                      and alert.revision > stored.revision):
                    self._alerts[alert.alert_id] = alert
            for delivery in save.deliveries:
                self._add_delivery(delivery)

    def _add_delivery(self, delivery: AlertDelivery) -> None:
        alert = self._alerts.get(delivery.alert_id)
        key = (delivery.alert_id, delivery.revision, delivery.sink)
        if alert is None or alert.revision != delivery.revision or key in self._deliveries:
            return
        for old_key, old in list(self._deliveries.items()):
            if (old.alert_id, old.sink) == (delivery.alert_id, delivery.sink) \
                    and old.revision < delivery.revision \
                    and old.status is DeliveryStatus.PENDING:
                del self._deliveries[old_key]
        self._deliveries[key] = delivery

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        with self._lock:
            return self._alerts.get(alert_id)

    def list_alerts(self, status: AlertStatus | None = None, limit: int = 100
                    ) -> list[AlertRecord]:
        with self._lock:
            found = [a for a in self._alerts.values() if status is None or a.status is status]
        found.sort(key=lambda a: (a.raised_at, a.alert_id), reverse=True)
        return found[:max(0, limit)]

    def close_alert(self, alert_id: str, status: AlertStatus, by: str, reason: str,
                    at: float) -> AlertRecord | None:
        with self._lock:
            alert = self._alerts.get(alert_id)
            if alert is None or alert.status is not AlertStatus.OPEN:
                return None
            closed = dataclasses.replace(alert, status=status, closed_by=by, closed_at=at,
                                         close_reason=reason, updated_at=at)
            self._alerts[alert_id] = closed
            return closed

    def pending_deliveries(self, now: float, limit: int) -> list[AlertDelivery]:
        with self._lock:
            due = [d for d in self._deliveries.values()
                   if d.status is DeliveryStatus.PENDING and d.next_at <= now]
        due.sort(key=lambda d: (d.next_at, d.alert_id, d.revision, d.sink))
        return due[:max(0, limit)]

    def record_delivery(self, delivery: AlertDelivery) -> None:
        key = (delivery.alert_id, delivery.revision, delivery.sink)
        with self._lock:
            if key in self._deliveries:
                self._deliveries[key] = delivery

    def deliveries(self, alert_id: str) -> list[AlertDelivery]:
        with self._lock:
            found = [d for d in self._deliveries.values() if d.alert_id == alert_id]
        return sorted(found, key=lambda d: (d.revision, d.sink))


class MemoryApprovalStore:
    """Held calls in a dict under a lock. The summary is copied, as every backend stores it."""

    def __init__(self) -> None:
        self._calls: dict[str, HeldCall] = {}
        self._lock = threading.Lock()

    def put_held(self, call: HeldCall) -> None:
        copy = dataclasses.replace(call, summary=dict(call.summary))
        with self._lock:
            if call.id in self._calls:
                raise DuplicateKey(call.id)
            self._calls[call.id] = copy

    def get_held(self, call_id: str) -> HeldCall | None:
        with self._lock:
            return self._calls.get(call_id)

    def update_held(self, call: HeldCall, expected_status: HeldStatus) -> bool:
        with self._lock:
            stored = self._calls.get(call.id)
            if stored is None:
                return False
            if not stored.is_same_call(call):
                raise ValueError(f"held call {call.id}: the call itself cannot change")
            if stored.status != expected_status:
                return False
            self._calls[call.id] = dataclasses.replace(call, summary=stored.summary)
            return True

    def list_held(self, status: HeldStatus | None = None) -> list[HeldCall]:
        with self._lock:
            calls = [c for c in self._calls.values() if status is None or c.status == status]
        return sorted(calls, key=lambda c: (c.created_at, c.id))

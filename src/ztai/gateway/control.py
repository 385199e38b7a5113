"""A cached view of the control state (revocations, agents, terms, risk, grants), re-read
whenever the store's version changes, so a revocation applies to every request received after
it while the common case costs one version read per turn of the event loop (``PerTurn``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ztai.core.model import Principal
from ztai.core.turn import PerTurn
from ztai.storage.interface import ControlStore
from ztai.storage.model import AccessGrant, AgentRecord, GrantStatus


def ref(principal: Principal) -> str:
    """A principal's reference in the control state: ``kind:id`` (``user:alice``)."""
    return f"{principal.kind.value}:{principal.id}"


@dataclass(frozen=True, slots=True)
class ControlSnapshot:
    revoked: frozenset[tuple[str, str]] = frozenset()
    agents: Mapping[str, AgentRecord] = field(default_factory=dict)
    accepted: frozenset[tuple[str, str, str]] = frozenset()
    risk: Mapping[str, str] = field(default_factory=dict)
    grants: Mapping[str, tuple[AccessGrant, ...]] = field(default_factory=dict)

    def is_revoked(self, kind: str, subject: str | None) -> bool:
        return subject is not None and (kind, subject) in self.revoked

    def roles(self, principal: Principal, now: float) -> frozenset[str]:
        """Roles granted just in time and still valid."""
        return frozenset(g.role for g in self.grants.get(ref(principal), ()) if g.is_active(now))


class ControlView:
    def __init__(self, store: ControlStore) -> None:
        self._store = store
        self._store_version = PerTurn(store.control_version)
        self._version = -1
        self._snapshot = ControlSnapshot()

    def current(self) -> ControlSnapshot:
        version = self._store_version.get()
        if version != self._version:
            self._snapshot = self._read()
            self._version = version
        return self._snapshot

    def _read(self) -> ControlSnapshot:
        store = self._store
        grants: dict[str, list[AccessGrant]] = {}
        for grant in store.list_grants():
            if grant.status is GrantStatus.APPROVED:
                grants.setdefault(grant.principal, []).append(grant)
        return ControlSnapshot(
            revoked=frozenset((r.kind.value, r.subject) for r in store.revocations()),
            agents={a.agent_id: a for a in store.list_agents()},
            accepted=frozenset((t.principal, t.app, t.version) for t in store.terms_acceptances()),
            risk={p: r.level.value for p, r in store.risk_levels().items()},
            grants={p: tuple(g) for p, g in grants.items()},
        )

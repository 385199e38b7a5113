"""Just-in-time elevation: a principal asks for a role for a while, with a reason; someone
else approves or denies; an approved grant adds the role to the principal's groups (Cedar
parents) until it expires by itself. Every step is an audit event, from request to expiry."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ztai.core.audit import AuditEvent
from ztai.core.clock import Clock, new_id
from ztai.core.errors import BadRequest
from ztai.core.model import Decision
from ztai.storage.interface import GrantStore
from ztai.storage.model import AccessGrant, GrantStatus

MAX_DURATION_S = 7 * 86400
Record = Callable[[AuditEvent], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class AccessRequest:
    principal: str  # "kind:id"
    role: str
    duration_s: float
    reason: str


class AccessService:
    def __init__(self, store: GrantStore, clock: Clock, max_duration_s: float = MAX_DURATION_S
                 ) -> None:
        self._store, self._clock, self._max = store, clock, max_duration_s

    def request(self, ask: AccessRequest) -> AccessGrant:
        if not ask.role.strip() or not ask.reason.strip():
            raise BadRequest("a role and a reason are required", param="role")
        if not 0 < ask.duration_s <= self._max:
            raise BadRequest(f"duration must be between 1 s and {int(self._max)} s",
                             param="duration")
        grant = AccessGrant(new_id("g-"), ask.principal, ask.role, ask.reason, ask.duration_s,
                            self._clock.now())
        self._store.put_grant(grant)
        return grant

    def decide(self, grant_id: str, approver: str, approve: bool, note: str = "") -> AccessGrant:
        """Approve or deny a pending request; nobody decides their own. Raises ``BadRequest``
        for an unknown, already decided or self-approved request."""
        grant = self._store.get_grant(grant_id)
        if grant is None:
            raise BadRequest(f"no access request {grant_id!r}", param="grant_id")
        if grant.principal == approver:
            raise BadRequest("nobody may decide their own access request", param="grant_id")
        now = self._clock.now()
        decided = dataclasses.replace(
            grant, status=GrantStatus.APPROVED if approve else GrantStatus.DENIED,
            decided_by=approver, decided_at=now,
            expires_at=now + grant.duration_s if approve else None, note=note)
        if not self._store.update_grant(decided, GrantStatus.PENDING):
            raise BadRequest(f"access request {grant_id!r} was already decided",
                             param="grant_id")
        return decided

    def expire(self) -> list[AccessGrant]:
        """Mark approved grants past their end as expired; returns those this call expired."""
        now, expired = self._clock.now(), []
        for grant in self._store.list_grants():
            if grant.status is GrantStatus.APPROVED and not grant.is_active(now):
                done = dataclasses.replace(grant, status=GrantStatus.EXPIRED)
                if self._store.update_grant(done, GrantStatus.APPROVED):
                    expired.append(done)
        return expired


def lifecycle_event(grant: AccessGrant, step: str, actor: str, clock: Clock) -> AuditEvent:
    """An audit event for a step taken outside an exchange (the CLI, or expiry)."""
    kind, _, who = actor.partition(":")
    return AuditEvent(
        id=new_id("x-"), time=clock.now(), route=f"access.{step}", action="request_access"
        if step == "request" else "approve_access", resource="Gateway::gateway",
        principal=who or actor, principal_kind=kind or None, credential_id=None,
        decision=Decision.allow(f"access {step}: {grant.role} for {grant.principal}"),
        status=200, delegation=(actor,), auth_method="local",
        details={"grant_id": grant.grant_id, "role": grant.role, "subject": grant.principal,
                 "status": grant.status.value, "duration_s": int(grant.duration_s)},
    )

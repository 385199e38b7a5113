"""Held calls as values: making one, the errors of deciding one, and the audit event of a
decision taken outside an exchange (the CLI, the kill switch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ztai.core.audit import AuditEvent
from ztai.core.clock import new_id
from ztai.core.errors import BadRequest
from ztai.core.model import Decision
from ztai.storage.model import HeldCall


class UnknownHeldCall(BadRequest):
    code = "held_call_not_found"


class HeldCallClosed(BadRequest):
    """The call was already approved, denied or expired: a decision comes too late."""

    code = "held_call_closed"


def new_held_call(chain: Sequence[str], action: str, resource: str,
                  summary: Mapping[str, str], now: float, timeout_s: float) -> HeldCall:
    """A pending call by ``chain[-1]`` (``chain``: "kind:id" refs, original principal first)
    that expires ``timeout_s`` from ``now``. Raises ``ValueError`` for an empty chain or a
    timeout that is not positive."""
    if not chain:
        raise ValueError("a held call needs the caller's delegation chain")
    if not timeout_s > 0:
        raise ValueError("a held call's timeout must be positive")
    return HeldCall(new_id("h-"), chain[-1], tuple(chain), action, resource, dict(summary),
                    now, now + timeout_s)


def decision_event(call: HeldCall, actor: str, now: float) -> AuditEvent:
    """The audit event for ``actor`` ("kind:id") deciding ``call``, as ``call`` now stands."""
    kind, _, who = actor.partition(":")
    step = {"approved": "approve", "denied": "deny"}.get(call.status.value, call.status.value)
    return AuditEvent(
        id=new_id("x-"), time=now, route=f"approvals.{step}", action="administer",
        resource="Gateway::gateway", principal=who or actor, principal_kind=kind or None,
        credential_id=None, status=200, delegation=(actor,), auth_method="local",
        decision=Decision.allow(f"held call {call.status.value}: {call.resource} "
                                f"for {call.principal}"),
        details={"held_id": call.id, "subject": call.principal, "resource": call.resource,
                 "status": call.status.value, "reason": call.reason[:500],
                 "chain": " > ".join(call.chain)},
    )

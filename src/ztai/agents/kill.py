"""The kill switch: one call stops an agent everywhere. It revokes the agent (every token and
key it holds, and every chain it is in, fail from the next request on), disables its
registration, revokes its API keys for good, and denies every held call it is part of.
Idempotent: a second call changes nothing and says so."""

from __future__ import annotations

from dataclasses import dataclass

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import HeldCallClosed
from ztai.core.clock import Clock
from ztai.core.errors import BadRequest
from ztai.core.model import PrincipalKind
from ztai.storage.interface import ControlStore, KeyStore
from ztai.storage.model import HeldCall, Revocation, RevocationKind


@dataclass(frozen=True, slots=True)
class KillReport:
    """What this call changed (a second kill reports nothing new)."""

    agent_id: str
    revoked: bool
    disabled: bool
    keys_revoked: tuple[str, ...]
    held_denied: tuple[HeldCall, ...]

    @property
    def changed(self) -> bool:
        return bool(self.revoked or self.disabled or self.keys_revoked or self.held_denied)


class KillSwitch:
    """``queue`` None: this process holds no calls (nothing to deny)."""

    def __init__(self, control: ControlStore, keys: KeyStore, queue: ApprovalQueue | None,
                 clock: Clock) -> None:
        self._control, self._keys, self._queue, self._clock = control, keys, queue, clock

    def kill(self, agent_id: str, reason: str, by: str) -> KillReport:
        """Stop ``agent_id`` as ``by`` ("kind:id"). Raises ``BadRequest`` without a reason,
        when ``by`` is an agent, or when no agent of that name is known (no registration, no
        agent key, no earlier kill). Each step is idempotent, so after a failure (the store
        unavailable) running it again completes it."""
        if not reason.strip():
            raise BadRequest("stopping an agent needs a reason", param="reason")
        if by.startswith("agent:"):
            raise BadRequest("an agent cannot stop an agent; a person or service must",
                             param="by")
        keys = [k for k in self._keys.list_keys()
                if k.principal == agent_id and k.kind is PrincipalKind.AGENT]
        registered = self._control.get_agent(agent_id) is not None
        known = (RevocationKind.AGENT, agent_id) in {
            (r.kind, r.subject) for r in self._control.revocations()}
        if not (registered or keys or known):
            raise BadRequest(f"no agent {agent_id!r}", param="agent_id")
        now = self._clock.now()
        if not known:  # first: from the next request on, every chain with it in is refused
            self._control.revoke(Revocation(RevocationKind.AGENT, agent_id, now, None,
                                            reason, by))
        return KillReport(
            agent_id, revoked=not known,
            disabled=registered and self._control.set_agent_disabled(agent_id, True),
            keys_revoked=tuple(k.key_id for k in keys if self._keys.revoke_key(k.key_id, now)),
            held_denied=self._deny_held(f"agent:{agent_id}", reason, by))

    def _deny_held(self, agent: str, reason: str, by: str) -> tuple[HeldCall, ...]:
        if self._queue is None:
            return ()
        denied = []
        for call in self._queue.pending():
            if agent == call.principal or agent in call.chain:
                try:
                    denied.append(self._queue.decide(call.id, False, by,
                                                     f"{agent} was stopped: {reason}"))
                except HeldCallClosed:  # decided or expired meanwhile: nothing to deny
                    continue
        return tuple(denied)

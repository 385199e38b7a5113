"""Held calls: a tool call that a policy holds (``@obligation("hold")``) waits for a person
instead of failing. The pipeline parks the exchange (outside any stage's timeout), the approval
queue tells the approvers (webhook) and takes their decision (admin API, CLI); approved, the
exchange goes on; denied or expired, it is denied with who decided and why. All of it is in the
exchange's audit event (``held_id``, ``held_status``, ``held_by``), the decision in its own.

A deny is held only if every policy that denied asks for a hold: a hold never softens a plain
forbid that also applies."""

from __future__ import annotations

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import new_held_call
from ztai.core.clock import Clock
from ztai.core.flow import Flow
from ztai.core.model import Action, Decision, Effect
from ztai.gateway.control import ref
from ztai.gateway.obligations import HOLD
from ztai.storage.model import HeldStatus

HOLDABLE = frozenset({Action.CALL_TOOL})


class Holds:
    def __init__(self, queue: ApprovalQueue, clock: Clock, timeout_s: float) -> None:
        self._queue, self._clock, self._timeout_s = queue, clock, timeout_s

    @staticmethod
    def holdable(flow: Flow, decision: Decision) -> bool:
        if decision.is_allow or flow.exchange.action not in HOLDABLE:
            return False
        kinds = [o.kind for o in decision.obligations]
        return bool(decision.policy_ids) and kinds == [HOLD] * len(decision.policy_ids)

    async def settle(self, flow: Flow, decision: Decision) -> Decision:
        """Wait for a person: an allow if they approve, else the deny with their reason."""
        signals = flow.exchange.signals
        summary = {"reasons": "; ".join(decision.reasons)[:1000],
                   "policies": " ".join(decision.policy_ids),
                   **{k: str(signals[k]) for k in ("mcp_server", "tool", "tool_risk",
                                                    "external_destinations") if k in signals}}
        destinations = flow.context.get("destinations")
        if isinstance(destinations, tuple):
            summary["destinations"] = " ".join(str(d) for d in destinations)[:1000]
        held = await self._queue.hold(new_held_call(
            [ref(p) for p in flow.principal.chain()], flow.exchange.action.value,
            flow.exchange.resource.id, summary, self._clock.now(), self._timeout_s))
        started = self._clock.monotonic()
        final = await self._queue.wait(held.id, self._timeout_s)
        flow.notes.update({"held_id": final.id, "held_status": final.status.value,
                           "held_wait_ms": round((self._clock.monotonic() - started) * 1000)})
        if final.decided_by:
            flow.notes["held_by"] = final.decided_by
        if final.status is HeldStatus.APPROVED:
            return Decision(Effect.ALLOW, (
                f"held ({'; '.join(decision.reasons)}), then approved by {final.decided_by}: "
                f"{final.reason}",), decision.policy_ids)
        why = (f"denied by {final.decided_by}: {final.reason}" if final.status is
               HeldStatus.DENIED else "no one approved it in time")
        return Decision(Effect.DENY, (*decision.reasons, f"the held call was {why}"),
                        decision.policy_ids)

"""The budget stage: every agent in the caller's delegation chain must be within its budget
(calls per minute, steps per session, tokens and cost per day), or the request is denied
naming the budget. A call that passes is counted against each of them. A session is an MCP
call's (see ``ztai.agents.taint.session_key``) or, on the other routes, the agent run the
caller names in ``X-Ztai-Session`` — the same key, so a run's model and tool calls count
together."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ztai.agents.budgets import Budget, BudgetLedger
from ztai.agents.taint import session_key, session_signal
from ztai.config.settings import AgentBudgetSettings, BudgetSettings, ModelSettings
from ztai.core.flow import Flow
from ztai.core.model import Decision, Principal, PrincipalKind
from ztai.gateway.control import ref

POLICY_ID = "budget"


class BudgetStage:
    name = "budget"
    suspends = False  # run() never awaits: the pipeline runs it to completion

    def __init__(self, ledger: BudgetLedger, prices: Mapping[str, float] | None = None) -> None:
        """``prices``: a model's cost per 1000 tokens (see ``prices_from``); others cost 0."""
        self._ledger, self._prices = ledger, dict(prices or {})

    async def run(self, flow: Flow) -> Decision | None:
        agents = agents_in(flow.principal)
        if not agents:
            return None
        session = _session(flow)
        for agent in agents:
            reason = self._ledger.check(agent, session)
            if reason is not None:
                return Decision.deny(reason, (POLICY_ID,))
        for agent in agents:  # no await since the checks: nothing else ran in between
            self._ledger.record_call(agent, session)
        return None

    def charge(self, principal: Principal, model: str, tokens: int) -> None:
        """Charge an answer's ``tokens`` (and their cost at ``model``'s price) to every agent
        in ``principal``'s chain; call it once the upstream said how many were used."""
        cost = tokens / 1000 * self._prices.get(model, 0.0)
        for agent in agents_in(principal):
            self._ledger.record_usage(agent, tokens, cost)


def _session(flow: Flow) -> str | None:
    signal = flow.exchange.signals.get("session")  # an MCP call's
    if signal is not None:
        return str(signal)
    if flow.meta.session:
        return session_signal(session_key(flow.principal, flow.meta.session))
    return None


def agents_in(principal: Principal) -> tuple[str, ...]:
    """The refs ("agent:x") of the agents in ``principal``'s chain, each once, in order."""
    return tuple(dict.fromkeys(ref(p) for p in principal.chain()
                               if p.kind is PrincipalKind.AGENT))


def budgets_from(settings: AgentBudgetSettings) -> Callable[[str], Budget | None]:
    """A principal ref → its budget: an agent's own entry, else the default; None for a
    principal that is not an agent."""
    default = _budget(settings.default)
    own = {f"agent:{name}": _budget(b) for name, b in settings.agents.items()}

    def budget(principal: str) -> Budget | None:
        if not principal.startswith("agent:"):
            return None
        return own.get(principal, default)

    return budget


def prices_from(models: Iterable[ModelSettings]) -> dict[str, float]:
    return {m.name: m.cost_per_1k_tokens for m in models if m.cost_per_1k_tokens}


def _budget(b: BudgetSettings) -> Budget:
    return Budget(b.calls_per_minute, b.steps_per_session, b.tokens_per_day, b.cost_per_day)

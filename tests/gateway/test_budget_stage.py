"""The budget stage: every agent in the delegation chain is held to its budget (people are not),
through the pipeline with an agent's key, and the budgets and prices read from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.harness import Options, auth, chat, harness
from ztai.agents.budgets import Budget, BudgetLedger
from ztai.config.settings import ConfigError, Settings
from ztai.core.clock import FixedClock
from ztai.core.flow import Flow
from ztai.core.model import (
    GATEWAY,
    Action,
    Exchange,
    ExchangeId,
    Principal,
    PrincipalId,
    PrincipalKind,
)
from ztai.gateway.agents_setup import budget_stage, webhook_from
from ztai.gateway.budgets import BudgetStage, agents_in, budgets_from, prices_from
from ztai.identity.apikey import KeySpec, issue_key

ALICE = Principal(PrincipalId("alice"), PrincipalKind.USER)


def _agent(name: str, acting_for: Principal | None = None) -> Principal:
    return Principal(PrincipalId(name), PrincipalKind.AGENT, acting_for=acting_for)


def _flow(principal: Principal, session: str | None = None) -> Flow:
    signals = {} if session is None else {"session": session}
    exchange = Exchange(ExchangeId("x-1"), "mcp", Action.CALL_TOOL, GATEWAY, signals=signals)
    return Flow(exchange, principal)


def _stage(budgets: dict[str, Budget], prices: dict[str, float] | None = None
           ) -> tuple[BudgetStage, BudgetLedger]:
    ledger = BudgetLedger(FixedClock(), budgets.get)
    return BudgetStage(ledger, prices), ledger


@pytest.mark.anyio
async def test_an_agent_over_its_budget_is_denied_naming_the_budget() -> None:
    stage, _ = _stage({"agent:bot": Budget(calls_per_minute=2)})
    flow = _flow(_agent("bot"))
    assert await stage.run(flow) is None
    assert await stage.run(flow) is None
    decision = await stage.run(flow)
    assert decision is not None
    assert not decision.is_allow
    assert decision.reasons == ("agent:bot is over its budget of 2 calls per minute",)
    assert decision.policy_ids == ("budget",)


@pytest.mark.anyio
async def test_every_agent_in_the_chain_is_held_to_its_own_budget() -> None:
    stage, ledger = _stage({"agent:outer": Budget(steps_per_session=1),
                            "agent:inner": Budget(steps_per_session=5)})
    chain = _agent("inner", acting_for=_agent("outer", acting_for=ALICE))
    assert agents_in(chain) == ("agent:outer", "agent:inner")
    assert await stage.run(_flow(chain, "s1")) is None
    denied = await stage.run(_flow(chain, "s1"))
    assert denied is not None
    assert denied.reasons == ("agent:outer is over its budget of 1 steps per session",)
    # a denied call is not counted against the other agents either
    assert ledger.check("agent:inner", "s1") is None
    assert await stage.run(_flow(chain, "s2")) is None  # another session


@pytest.mark.anyio
async def test_people_are_not_budgeted() -> None:
    stage, ledger = _stage({"user:alice": Budget(calls_per_minute=0)})
    assert await stage.run(_flow(ALICE)) is None
    assert ledger.check("user:alice", None) is not None  # had it been asked, it would refuse
    assert agents_in(ALICE) == ()


def test_usage_is_charged_to_every_agent_at_the_models_price() -> None:
    stage, ledger = _stage({"agent:bot": Budget(cost_per_day=1.0),
                            "agent:sub": Budget(tokens_per_day=3000)},
                           prices={"gpt": 0.5})
    principal = _agent("sub", acting_for=_agent("bot"))
    stage.charge(principal, "gpt", 1999)
    assert ledger.check("agent:bot", None) is None  # 0.9995
    stage.charge(principal, "free-model", 1001)
    assert ledger.check("agent:bot", None) is None  # a model without a price costs nothing
    assert ledger.check("agent:sub", None) == "agent:sub is over its budget of 3000 tokens per day"
    stage.charge(principal, "gpt", 2)
    assert ledger.check("agent:bot", None) == "agent:bot is over its budget of 1 cost per day"


def test_budgets_and_prices_come_from_the_settings() -> None:
    settings = Settings.model_validate({
        "upstreams": [{"name": "sim", "kind": "simulator"}],
        "models": [{"name": "gpt", "upstream": "sim", "cost_per_1k_tokens": 0.25},
                   {"name": "free", "upstream": "sim"}],
        "agents": {"approval_timeout_s": 30, "budgets": {
            "default": {"calls_per_minute": 60},
            "agents": {"mailbot": {"steps_per_session": 3}}}}})
    budgets = budgets_from(settings.agents.budgets)
    assert budgets("agent:other") == Budget(calls_per_minute=60)
    assert budgets("agent:mailbot") == Budget(steps_per_session=3)  # replaces the default whole
    assert budgets("user:mailbot") is None
    assert prices_from(settings.models) == {"gpt": 0.25}
    assert settings.agents.approval_timeout_s == 30
    assert Settings().agents.approval_timeout_s == 120
    stage = budget_stage(settings, FixedClock())
    assert stage is not None
    assert stage.name == "budget"
    assert budget_stage(Settings(), FixedClock()) is None  # no limit anywhere: nothing to count


def test_the_webhook_needs_its_secret_in_the_environment() -> None:
    settings = Settings.model_validate({"agents": {"approval_webhook": {
        "url": "https://hooks.example/ztai", "secret_env": "ZTAI_HOOK_SECRET"}}})
    with pytest.raises(ConfigError, match="ZTAI_HOOK_SECRET"):
        webhook_from(settings, FixedClock(), environ={})
    assert webhook_from(Settings(), FixedClock(), environ={}) is None
    with pytest.raises(ValueError, match="url"):
        Settings.model_validate({"agents": {"approval_webhook": {
            "url": "ftp://hooks.example", "secret_env": "X"}}})
    with pytest.raises(ValueError, match="calls_per_minute"):
        Settings.model_validate({"agents": {"budgets": {"default": {"calls_per_minute": -1}}}})


@pytest.mark.anyio
async def test_an_agents_key_is_refused_once_over_budget_and_audited(tmp_path: Path) -> None:
    clock = FixedClock()
    ledger = BudgetLedger(clock, {"agent:bot": Budget(calls_per_minute=1)}.get)
    async with harness(tmp_path, Options(before=[BudgetStage(ledger)])) as h:
        key, _ = issue_key(h.key_store, KeySpec("bot", PrincipalKind.AGENT,
                                                frozenset({"staff"})), h.clock)
        first = await h.client.post("/v1/chat/completions", headers=auth(key.reveal()),
                                    json=chat())
        second = await h.client.post("/v1/chat/completions", headers=auth(key.reveal()),
                                     json=chat())
        person = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                     json=chat())
        event = h.events()[-2]
    assert (first.status_code, second.status_code, person.status_code) == (200, 403, 200)
    assert "agent:bot is over its budget of 1 calls per minute" in second.text
    assert (event["principal"], event["decision"]["effect"]) == ("bot", "deny")
    assert event["decision"]["policy_ids"] == ["budget"]


@pytest.mark.anyio
async def test_steps_per_session_count_on_the_openai_routes_by_agent_run(
        tmp_path: Path) -> None:
    """Before 2026-11-27 only MCP calls had a session, so an agent's model calls never counted
    as steps; now the run the caller names in ``X-Ztai-Session`` does (the same key as its
    MCP calls', so a run's model and tool calls count together)."""
    ledger = BudgetLedger(FixedClock(), {"agent:bot": Budget(steps_per_session=2)}.get)
    async with harness(tmp_path, Options(before=[BudgetStage(ledger)])) as h:
        key, _ = issue_key(h.key_store, KeySpec("bot", PrincipalKind.AGENT,
                                                frozenset({"staff"})), h.clock)

        async def ask(run: str | None) -> int:
            headers = {**auth(key.reveal()), **({"x-ztai-session": run} if run else {})}
            response = await h.client.post("/v1/chat/completions", headers=headers,
                                           json=chat())
            return response.status_code

        first_run = [await ask("run-1") for _ in range(3)]
        second_run = await ask("run-2")
        unnamed = [await ask(None) for _ in range(3)]
    assert first_run == [200, 200, 403]
    assert second_run == 200
    assert unnamed == [200, 200, 200]  # no run named: no session to count steps in


def test_mcp_calls_and_model_calls_of_a_run_share_its_session() -> None:
    """The MCP front reads ``X-Ztai-Session`` as the meta reader does for the other routes
    (printable, bounded), so one run's calls on both count as one session."""
    from starlette.requests import Request

    from ztai.agents.taint import session_key
    from ztai.gateway.clientinfo import MetaReader
    from ztai.gateway.mcp.front import _session_key

    bot = _agent("bot")
    raw = b" run-1\x00" + b"x" * 200
    scope = {"type": "http", "headers": [(b"x-ztai-session", raw)], "client": ("1.1.1.1", 1),
             "state": {"ztai_principal": bot}}
    meta = MetaReader().read(scope)
    assert meta.session is not None
    assert _session_key(Request(scope)) == session_key(bot, meta.session)

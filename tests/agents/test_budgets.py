"""Budgets per agent, on a fake clock: each limit, the sliding minute, the UTC day rolling
over, budgets changing on the fly, and the bounded session table."""

from __future__ import annotations

from typing import Any

import pytest

from ztai.agents.budgets import DAY_S, Budget, BudgetLedger
from ztai.core.clock import FixedClock

AGENT = "agent:mailbot"


def _ledger(budget: Budget | None, clock: FixedClock, **options: int) -> BudgetLedger:
    return BudgetLedger(clock, lambda principal: budget if principal == AGENT else None,
                        **options)


def _call(ledger: BudgetLedger, session: str | None = None) -> str | None:
    """Check, and record when within budget (as the budget stage does)."""
    reason = ledger.check(AGENT, session)
    if reason is None:
        ledger.record_call(AGENT, session)
    return reason


def test_without_a_budget_nothing_is_limited() -> None:
    clock = FixedClock()
    ledger = _ledger(None, clock)
    for _ in range(1000):
        assert _call(ledger, "s") is None
    ledger.record_usage(AGENT, 10**9, 10**6)
    assert ledger.check(AGENT, "s") is None
    assert ledger.check("agent:other", None) is None


def test_calls_per_minute_slide_with_the_window() -> None:
    clock = FixedClock()
    ledger = _ledger(Budget(calls_per_minute=3), clock)
    for _ in range(3):  # at 0, 20, 40 s
        assert _call(ledger) is None
        clock.advance(20)
    clock.advance(-0.5)  # 59.5 s after the first call
    assert _call(ledger) == f"{AGENT} is over its budget of 3 calls per minute"
    clock.advance(0.5)  # the first call leaves the window at 60 s
    assert _call(ledger) is None
    assert _call(ledger) is not None  # 20, 40 and 60 are within the minute
    clock.advance(20)
    assert _call(ledger) is None


def test_denied_calls_do_not_use_up_the_window() -> None:
    clock = FixedClock()
    ledger = _ledger(Budget(calls_per_minute=1), clock)
    assert _call(ledger) is None
    for _ in range(50):
        clock.advance(1)
        assert _call(ledger) is not None
    clock.advance(10)  # 60 s after the only recorded call
    assert _call(ledger) is None


def test_steps_are_counted_per_session() -> None:
    clock = FixedClock()
    ledger = _ledger(Budget(steps_per_session=2), clock)
    assert _call(ledger, "s1") is None
    assert _call(ledger, "s1") is None
    assert _call(ledger, "s1") == f"{AGENT} is over its budget of 2 steps per session"
    assert _call(ledger, "s2") is None
    for _ in range(5):  # no session: no step budget applies
        assert _call(ledger) is None


def test_tokens_per_day_roll_over_at_midnight_utc() -> None:
    clock = FixedClock()
    clock.advance(DAY_S - clock.now() % DAY_S - 1)  # one second before midnight UTC
    ledger = _ledger(Budget(tokens_per_day=1000), clock)
    ledger.record_usage(AGENT, 999, 0.0)
    assert ledger.check(AGENT, None) is None
    ledger.record_usage(AGENT, 500, 0.0)  # one answer may overshoot; the next call is refused
    assert ledger.check(AGENT, None) == f"{AGENT} is over its budget of 1000 tokens per day"
    clock.advance(1)
    assert ledger.check(AGENT, None) is None
    ledger.record_usage(AGENT, 1000, 0.0)
    assert ledger.check(AGENT, None) is not None


def test_cost_per_day_is_a_budget_of_its_own() -> None:
    clock = FixedClock()
    ledger = _ledger(Budget(cost_per_day=2.5), clock)
    ledger.record_usage(AGENT, 10, 1.25)
    assert ledger.check(AGENT, None) is None
    ledger.record_usage(AGENT, 10, 1.25)
    assert ledger.check(AGENT, None) == f"{AGENT} is over its budget of 2.5 cost per day"
    clock.advance(DAY_S)
    assert ledger.check(AGENT, None) is None


def test_a_zero_budget_allows_nothing() -> None:
    ledger = _ledger(Budget(calls_per_minute=0), FixedClock())
    assert _call(ledger) is not None


def test_a_changed_budget_applies_at_once() -> None:
    clock, budget = FixedClock(), [Budget(calls_per_minute=2)]
    ledger = BudgetLedger(clock, lambda principal: budget[0])
    for _ in range(2):
        assert _call(ledger) is None
    assert _call(ledger) is not None
    budget[0] = Budget(calls_per_minute=4)
    assert _call(ledger) is None  # the two calls before the change still count
    assert _call(ledger) is None
    assert _call(ledger) is not None  # four in the minute
    budget[0] = Budget(calls_per_minute=3)
    assert _call(ledger) is not None
    budget[0] = Budget(steps_per_session=1)  # no rate limit any more
    assert _call(ledger) is None


def test_sessions_beyond_the_cap_are_forgotten_least_recently_used_first() -> None:
    clock = FixedClock()
    ledger = _ledger(Budget(steps_per_session=1), clock, max_sessions=2)
    assert _call(ledger, "s1") is None
    assert _call(ledger, "s2") is None
    assert _call(ledger, "s1") is not None  # checks do not refresh a session
    ledger.record_call(AGENT, "s1")  # a recorded call does: s2 is now the oldest
    assert _call(ledger, "s3") is None  # s2 forgotten
    assert _call(ledger, "s2") is None
    assert _call(ledger, "s3") is not None
    assert _call(ledger, "s1") is None  # forgotten when s2 came back


@pytest.mark.parametrize("budget", [
    {"calls_per_minute": -1}, {"steps_per_session": -1}, {"tokens_per_day": -5},
    {"cost_per_day": -0.01}, {"cost_per_day": float("nan")},
])
def test_a_negative_budget_is_refused(budget: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Budget(**budget)


def test_negative_usage_is_refused() -> None:
    ledger = _ledger(Budget(tokens_per_day=10), FixedClock())
    with pytest.raises(ValueError, match="negative"):
        ledger.record_usage(AGENT, -100, 0.0)
    with pytest.raises(ValueError, match="negative"):
        ledger.record_usage(AGENT, 0, -1.0)

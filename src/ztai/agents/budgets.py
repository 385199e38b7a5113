"""Budgets per agent: calls per minute (a sliding window), steps per session, tokens and cost
per UTC day. Kept in memory, bounded: per principal, the window holds at most the limit's
number of call times; sessions beyond ``max_sessions`` are forgotten, least recently used first.
Usage is known only after a call, so one call may overshoot a daily budget: the next is refused."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from ztai.core.clock import Clock

WINDOW_S = 60.0
DAY_S = 86400


@dataclass(frozen=True, slots=True)
class Budget:
    """None means no limit; 0 allows nothing."""

    calls_per_minute: int | None = None
    steps_per_session: int | None = None
    tokens_per_day: int | None = None
    cost_per_day: float | None = None

    def __post_init__(self) -> None:
        for name in ("calls_per_minute", "steps_per_session", "tokens_per_day", "cost_per_day"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"budget {name} must not be negative")


@dataclass(slots=True)
class _Day:
    day: int
    tokens: int = 0
    cost: float = 0.0


class BudgetLedger:
    """What each principal ("kind:id") has spent. ``budgets`` gives a principal's budget (None:
    unlimited); asked on every check, so a new budget applies at once (a rate lowered keeps
    only as many call times as its new limit: raised again within the minute, it counts only
    those). Thread-safe."""

    def __init__(self, clock: Clock, budgets: Callable[[str], Budget | None],
                 max_sessions: int = 10_000) -> None:
        self._clock, self._budgets, self._max_sessions = clock, budgets, max_sessions
        self._calls: dict[str, deque[float]] = {}  # the latest call times, at most the limit
        self._days: dict[str, _Day] = {}
        self._steps: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, principal: str, session: str | None) -> str | None:
        """None if ``principal`` may make one more call; else why not, naming the budget."""
        budget = self._budgets(principal)
        if budget is None:
            return None
        now = self._clock.now()
        with self._lock:
            return (self._over_rate(principal, budget, now)
                    or self._over_steps(principal, session, budget)
                    or self._over_day(principal, budget, now))

    def record_call(self, principal: str, session: str | None) -> None:
        budget, now = self._budgets(principal), self._clock.now()
        with self._lock:
            if budget is not None and budget.calls_per_minute is not None:
                self._window(principal, budget.calls_per_minute).append(now)
            if session is not None:
                key = (principal, session)
                self._steps[key] = self._steps.get(key, 0) + 1
                self._steps.move_to_end(key)
                while len(self._steps) > self._max_sessions:
                    self._steps.popitem(last=False)

    def record_usage(self, principal: str, tokens: int, cost: float) -> None:
        """Charge ``tokens`` and ``cost`` to today (UTC); negative amounts are refused."""
        if tokens < 0 or not cost >= 0:
            raise ValueError("usage must not be negative")
        now = self._clock.now()
        with self._lock:
            day = self._today(principal, now)
            day.tokens += tokens
            day.cost += cost

    def _over_rate(self, principal: str, budget: Budget, now: float) -> str | None:
        limit = budget.calls_per_minute
        if limit is None:
            return None
        window = self._window(principal, limit)
        # The window keeps the last ``limit`` calls: full, and its oldest within the minute.
        if len(window) >= limit and (limit == 0 or now - window[0] < WINDOW_S):
            return f"{principal} is over its budget of {limit} calls per minute"
        return None

    def _over_steps(self, principal: str, session: str | None, budget: Budget) -> str | None:
        limit = budget.steps_per_session
        if limit is None or session is None:
            return None
        if self._steps.get((principal, session), 0) >= limit:
            return f"{principal} is over its budget of {limit} steps per session"
        return None

    def _over_day(self, principal: str, budget: Budget, now: float) -> str | None:
        day = self._today(principal, now)
        if budget.tokens_per_day is not None and day.tokens >= budget.tokens_per_day:
            return f"{principal} is over its budget of {budget.tokens_per_day} tokens per day"
        if budget.cost_per_day is not None and day.cost >= budget.cost_per_day:
            return f"{principal} is over its budget of {budget.cost_per_day:g} cost per day"
        return None

    def _window(self, principal: str, limit: int) -> deque[float]:
        window = self._calls.get(principal)
        if window is None or window.maxlen != limit:  # new, or the limit changed
            window = self._calls[principal] = deque(window or (), maxlen=limit)
        return window

    def _today(self, principal: str, now: float) -> _Day:
        today = int(now // DAY_S)
        day = self._days.get(principal)
        if day is None or day.day != today:
            day = self._days[principal] = _Day(today)
        return day

"""Taint: once a session has read untrusted content (a tool's output, a fetched page), what
the agent does next may be steered by whoever wrote that content. The tracker remembers, per
session, that untrusted content entered and whether it carried an attack, so policies can hold
or deny high-impact actions afterwards — the "rule of two" as a policy input.

In memory and bounded: a session is forgotten ``ttl_s`` after it was last tainted, and beyond
``max_sessions`` the least recently tainted goes first. Forgetting errs towards less taint, so
the bound is generous; the same untrusted content is re-marked whenever it is read again."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from ztai.core.clock import Clock
from ztai.core.model import Principal

MAX_SESSIONS = 100_000


def session_key(principal: Principal, header: str | None) -> str:
    """Taint is kept per principal and session: the caller's own session id when it sends one
    (``X-Ztai-Session`` joins several MCP servers and model calls into one agent run), else
    the MCP session, else the principal alone (the most cautious)."""
    return f"{principal.kind.value}:{principal.id}|{header or '-'}"


def session_signal(key: str) -> str:
    """A session key as audit events and budgets record it (a digest, not the caller's id)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Taint:
    untrusted: bool = False  # untrusted content entered the session
    attacked: bool = False  # and a prompt-shield finding was in it
    sources: tuple[str, ...] = ()  # where it came from (tool names), newest last, bounded

    @property
    def clean(self) -> bool:
        return not self.untrusted and not self.attacked


CLEAN = Taint()
MAX_SOURCES = 8


class TaintTracker:
    def __init__(self, clock: Clock, ttl_s: float = 3600.0,
                 max_sessions: int = MAX_SESSIONS) -> None:
        if ttl_s <= 0 or max_sessions <= 0:
            raise ValueError("ttl_s and max_sessions must be positive")
        self._clock, self._ttl, self._max = clock, ttl_s, max_sessions
        self._sessions: OrderedDict[str, tuple[float, Taint]] = OrderedDict()

    def of(self, session: str) -> Taint:
        held = self._sessions.get(session)
        if held is None:
            return CLEAN
        expires, taint = held
        if expires <= self._clock.monotonic():
            del self._sessions[session]
            return CLEAN
        return taint

    def mark(self, session: str, source: str, attacked: bool) -> Taint:
        """Untrusted content from ``source`` entered ``session`` (``attacked``: with an attack)."""
        before = self.of(session)
        sources = tuple(dict.fromkeys((*before.sources, source)))[-MAX_SOURCES:]
        taint = Taint(True, before.attacked or attacked, sources)
        self._sessions[session] = (self._clock.monotonic() + self._ttl, taint)
        self._sessions.move_to_end(session)
        while len(self._sessions) > self._max:
            self._sessions.popitem(last=False)
        return taint

    def clear(self, session: str) -> None:
        self._sessions.pop(session, None)

    def __len__(self) -> int:
        return len(self._sessions)

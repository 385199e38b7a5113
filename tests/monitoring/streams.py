"""Audit events in the gateway's own format (``AuditEvent`` through ``encode_event``), and
scripted streams of them, for replaying through the monitor."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ztai.audit.canonical import encode_event
from ztai.core.audit import AuditEvent
from ztai.core.model import Decision, Finding, Span
from ztai.monitoring.observe import Catalogue
from ztai.storage.interface import AuditStore
from ztai.storage.model import ChainedEntry

MONDAY = 1_750_060_800.0  # 2025-06-16 08:00 UTC, a Monday
HOUR, DAY = 3600.0, 86400.0
CATALOGUE = Catalogue({"demo-chat": "internal", "secret-chat": "internal",
                       "demo-consumer-chat": "consumer", "gpt-public": "consumer"})


@dataclass(frozen=True)
class Ev:
    """One scripted exchange, reduced to what a test varies."""

    principal: str  # "kind:id"
    time: float
    resource: str = "Model::demo-chat"
    action: str = "invoke_model"
    denied: bool = False
    status: int | None = None
    findings: tuple[str, ...] = ()  # kinds; "fingerprint.match:doc" names the document
    label: str | None = None
    prompt_tokens: int = 0
    details: dict[str, str | int | bool] = field(default_factory=dict)


def event(ev: Ev, number: int) -> AuditEvent:
    kind, _, who = ev.principal.partition(":")
    decision = Decision.deny("refused", ("some-policy",)) if ev.denied \
        else Decision.allow("allowed", ("staff-use-models",))
    findings = tuple(_finding(k) for k in ev.findings)
    rkind, _, rid = ev.resource.partition("::")
    return AuditEvent(
        id=f"x-{number:06d}", time=ev.time, route="chat.completions", action=ev.action,
        resource=ev.resource, principal=who, principal_kind=kind, credential_id="k1",
        decision=decision, status=ev.status or (403 if ev.denied else 200), findings=findings,
        model=rid if rkind == "Model" and not ev.denied else None,
        usage={"prompt_tokens": ev.prompt_tokens} if ev.prompt_tokens else {},
        delegation=(ev.principal,), auth_method="api_key", details=ev.details, label=ev.label)


def _finding(spec: str) -> Finding:
    kind, _, doc = spec.partition(":")
    detector = f"fingerprint:{doc}" if doc else kind.partition(".")[0]
    return Finding(kind, 0, Span(0, 10), 1.0, detector)


def append(store: AuditStore, evs: Sequence[Ev]) -> list[int]:
    """Store ``evs`` in order after what is there; returns their seqs."""
    head = store.head()
    start = head.seq if head is not None else 0
    entries = [ChainedEntry(start + i + 1, encode_event(event(ev, start + i + 1)), "", "")
               for i, ev in enumerate(evs)]
    store.append(entries, None)
    return [e.seq for e in entries]


def probing(principal: str, start: float, attempts: int, gap_s: float = 60.0) -> list[Ev]:
    """Refused asks about Project Obsidian, as the oversharing story's Adele makes them."""
    return [Ev(principal, start + i * gap_s, denied=True, findings=("term.obsidian",),
               label="Confidential") for i in range(attempts)]


def normal_office(seed: int, days: int = 14, people: int = 10) -> list[Ev]:
    """A fortnight of ordinary use: people on weekdays in office hours at their own pace
    (some handle Confidential work all day, one works nights, a few refusals now and then,
    a little data to a consumer model), agents calling the same few tools around the clock."""
    rng = random.Random(seed)  # noqa: S311  # a seeded, reproducible stream; no secret
    evs: list[Ev] = []
    for p in range(people):
        evs += _person(rng, f"user:u{p}", days, heavy=p % 4 == 0, nights=p == people - 1)
    for a in range(3):
        evs += _agent(rng, f"agent:bot{a}", days, ("search", "read_calendar", f"crm_{a}"))
    return sorted(evs, key=lambda e: (e.time, e.principal))


def _person(rng: random.Random, who: str, days: int, heavy: bool, nights: bool) -> Iterator[Ev]:
    pace = rng.randint(4, 25)
    for day in range(days):
        if (MONDAY + day * DAY - 8 * HOUR) // DAY % 7 in (2, 3) and not nights:
            continue  # 1970-01-01 was a Thursday: these are Saturdays and Sundays
        for hour in range(9):
            base = MONDAY + day * DAY + (hour + (12 if nights else 0)) * HOUR
            for _ in range(max(0, int(rng.gauss(pace, pace / 4)))):
                yield _ordinary(rng, who, base + rng.uniform(0, HOUR), heavy)


def _ordinary(rng: random.Random, who: str, at: float, heavy: bool) -> Ev:
    roll = rng.random()
    if roll < 0.02:
        return Ev(who, at, denied=True)
    if heavy and roll < 0.35:
        return Ev(who, at, "Model::secret-chat", findings=("term.budget",), label="Confidential")
    if roll < 0.05:
        return Ev(who, at, "Model::demo-consumer-chat", prompt_tokens=rng.randint(20, 400))
    return Ev(who, at, label="Public")


def _agent(rng: random.Random, who: str, days: int, tools: Sequence[str]) -> Iterator[Ev]:
    for hour in range(days * 24):
        for _ in range(rng.randint(2, 12)):
            at = MONDAY + hour * HOUR + rng.uniform(0, HOUR)
            yield Ev(who, at, f"Tool::{rng.choice(tools)}", action="call_tool")

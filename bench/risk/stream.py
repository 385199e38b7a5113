"""A synthetic audit stream in the gateway's own format (``AuditEvent`` → ``encode_event``):
office workers on weekdays, agents around the clock, a few principals probing a code name."""

from __future__ import annotations

import random
from collections.abc import Iterator

from ztai.audit.canonical import encode_event
from ztai.core.audit import AuditEvent
from ztai.core.model import Decision, Finding, Span

MONDAY = 1_750_060_800.0  # 2025-06-16 08:00 UTC
HOUR, DAY = 3600.0, 86400.0
ALLOW = Decision.allow("members of staff may use the gateway's models", ("staff-use-models",))
DENY = Decision.deny("Confidential content needs the obsidian clearance",
                     ("confidential-needs-clearance",))


def payloads(seed: int, users: int, agents: int, days: int, probers: int) -> list[bytes]:
    """Events in time order, encoded as the audit log stores them."""
    rng = random.Random(seed)  # a reproducible stream, not a secret
    rows = [*_users(rng, users, days), *_agents(rng, agents, days),
            *_probers(rng, probers, days)]
    rows.sort(key=lambda row: row[0])
    return [encode_event(_event(i, *row)) for i, row in enumerate(rows, 1)]


def _users(rng: random.Random, users: int, days: int) -> Iterator[tuple[float, str, str, str]]:
    for u in range(users):
        pace = rng.randint(4, 30)
        for day in range(days):
            for hour in range(8):
                base = MONDAY + day * DAY + hour * HOUR
                for _ in range(max(0, int(rng.gauss(pace, pace / 4)))):
                    yield base + rng.uniform(0, HOUR), f"u{u}", "user", _kind(rng)


def _agents(rng: random.Random, agents: int, days: int) -> Iterator[tuple[float, str, str, str]]:
    for a in range(agents):
        for hour in range(days * 24):
            for _ in range(rng.randint(2, 12)):
                yield (MONDAY + hour * HOUR + rng.uniform(0, HOUR), f"bot{a}", "agent",
                       f"tool:{rng.choice(('search', 'read_calendar', 'crm'))}")


def _probers(rng: random.Random, probers: int, days: int
             ) -> Iterator[tuple[float, str, str, str]]:
    for p in range(probers):
        start = MONDAY + rng.randrange(days) * DAY + 3 * HOUR
        for i in range(10):
            yield start + i * 60, f"prober{p}", "user", "probe"


def _kind(rng: random.Random) -> str:
    roll = rng.random()
    return "denied" if roll < 0.02 else "sensitive" if roll < 0.12 else "plain"


def _event(n: int, at: float, who: str, kind: str, what: str) -> AuditEvent:
    tool = what.startswith("tool:")
    denied = what in ("denied", "probe")
    findings = (Finding("term.obsidian", 0, Span(14, 30), 1.0, "terms"),) \
        if what in ("sensitive", "probe") else ()
    return AuditEvent(
        id=f"x-{n:024x}", time=at, route="mcp" if tool else "chat.completions",
        action="call_tool" if tool else "invoke_model",
        resource=f"Tool::{what[5:]}" if tool else "Model::demo-chat", principal=who,
        principal_kind=kind, credential_id="c1", decision=DENY if denied else ALLOW,
        status=403 if denied else 200, findings=findings,
        content_hashes=("0" * 64,), model=None if denied or tool else "demo-chat",
        usage={} if denied or tool else {"prompt_tokens": 212, "completion_tokens": 80},
        delegation=(f"{kind}:{who}",), auth_method="api_key", client_ip="10.0.0.7",
        details={"tools": 0, "unscanned_parts": 0},
        label="Confidential" if findings else "Public")

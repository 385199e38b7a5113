"""Alerts from levels: one open alert per principal, raised when its level reaches the alert
level, revised when the level climbs further, resolved when it decays back to none. Ids derive
from the audit seq of the event that raised them, so a replay after a crash stores the same
alert again instead of a second one."""

from __future__ import annotations

from collections.abc import Sequence

from ztai.monitoring.scoring import rank
from ztai.monitoring.state import OpenAlert, PrincipalState
from ztai.storage.model import (
    AlertDelivery,
    AlertEvidence,
    AlertRecord,
    AlertStatus,
    RiskLevel,
)


def alert_id(seq: int) -> str:
    return f"ra-{seq:012d}"


def escalate(p: PrincipalState, level: RiskLevel, score: float, at: float, seq: int,
             alert_level: RiskLevel) -> AlertRecord | None:
    """The new revision if ``level`` raises an alert or climbs above the open one's."""
    if rank(level) < rank(alert_level):
        return None
    if p.alert is None:
        p.alert = OpenAlert(alert_id(seq), 1, level, at)
    elif rank(level) > rank(p.alert.level):
        p.alert = OpenAlert(p.alert.alert_id, p.alert.revision + 1, level, p.alert.raised_at)
    else:
        return None
    return _record(p, p.alert, score, at, AlertStatus.OPEN)


def resolve(p: PrincipalState, score: float, at: float) -> AlertRecord | None:
    """The resolving revision of the open alert, once the level is back to none."""
    if p.alert is None:
        return None
    done = OpenAlert(p.alert.alert_id, p.alert.revision + 1, p.alert.level, p.alert.raised_at)
    p.alert = None
    return _record(p, done, score, at, AlertStatus.RESOLVED)


def deliveries(alert: AlertRecord, sinks: Sequence[str]) -> list[AlertDelivery]:
    """One pending delivery per sink, due at once."""
    return [AlertDelivery(alert.alert_id, alert.revision, sink) for sink in sinks]


def indicator_points(evidence: Sequence[AlertEvidence]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in evidence:
        for indicator, points in item.points.items():
            totals[indicator] = round(totals.get(indicator, 0.0) + points, 3)
    return dict(sorted(totals.items()))


def summary(indicators: dict[str, float], topics: Sequence[str] = ()) -> str:
    """``probing 48, denied 20`` (largest first) and the topics: no content, no names."""
    parts = [f"{name} {points:g}" for name, points in
             sorted(indicators.items(), key=lambda kv: (-kv[1], kv[0])) if points > 0]
    text = ", ".join(parts[:4]) or "no indicator"
    return f"{text}; topics {' '.join(sorted(set(topics))[:5])}" if topics else text


def _record(p: PrincipalState, alert: OpenAlert, score: float, at: float,
            status: AlertStatus) -> AlertRecord:
    evidence = tuple(sorted(p.evidence, key=lambda e: e.seq))
    return AlertRecord(
        alert_id=alert.alert_id, principal=p.principal, level=alert.level,
        score=round(score, 3), status=status, raised_at=alert.raised_at, updated_at=at,
        revision=alert.revision, indicators=indicator_points(evidence), evidence=evidence)


def alert_dict(alert: AlertRecord) -> dict[str, object]:
    """ztai's JSON shape of an alert (webhooks, ``ztai risk alerts --json``)."""
    return {
        "alert_id": alert.alert_id, "principal": alert.principal, "level": alert.level.value,
        "score": alert.score, "status": alert.status.value, "raised_at": alert.raised_at,
        "updated_at": alert.updated_at, "revision": alert.revision,
        "indicators": dict(alert.indicators),
        "evidence": [{"seq": e.seq, "event_id": e.event_id, "time": e.time,
                      "action": e.action, "resource": e.resource, "decision": e.decision,
                      "points": dict(e.points), "topics": list(e.topics)}
                     for e in alert.evidence],
        "closed_by": alert.closed_by, "closed_at": alert.closed_at,
        "close_reason": alert.close_reason,
    }

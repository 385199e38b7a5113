"""The risk engine: observations in audit order → per-principal scores, levels and alerts.
Pure state over values (no I/O, no clock): the same observations, dismissals and ``settle``
moments give the same state, levels and alerts, whether run at once or across restarts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ztai.monitoring import alerting
from ztai.monitoring.baseline import Ewma, allowance, winsorised
from ztai.monitoring.model import Assessment, Indicator, Observation
from ztai.monitoring.scoring import RATE_INDICATORS, ScoringOptions, decayed
from ztai.monitoring.signals import Earnings, is_learning, novelty, probed, touched
from ztai.monitoring.state import (
    MAX_EVIDENCE,
    GroupState,
    PrincipalState,
    decode_group,
    decode_principal,
    encode_group,
    encode_principal,
)
from ztai.storage.model import (
    AlertDelivery,
    AlertEvidence,
    AlertRecord,
    MonitorCheckpoint,
    RiskLevel,
)

RATE_KEYS = tuple(i.value for i in RATE_INDICATORS)
PeerGroup = Callable[[str, str], str]  # (principal ref, kind) -> its peer group
FORGET_BELOW = 0.01  # a score this small is zero; the principal leaves the active set


def kind_group(principal: str, kind: str) -> str:
    """The default peer group: people with people, agents with agents, services with services."""
    return kind


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the last ``changes()``: state blobs to save, alert revisions, and the
    deliveries those revisions need."""

    principals: dict[str, bytes]
    groups: dict[str, bytes]
    alerts: tuple[AlertRecord, ...]
    deliveries: tuple[AlertDelivery, ...]


class RiskEngine:
    def __init__(self, options: ScoringOptions, peer_group: PeerGroup = kind_group,
                 sinks: Sequence[str] = (), checkpoint: MonitorCheckpoint | None = None) -> None:
        """Raises ``ValueError``, ``TypeError`` or ``KeyError`` if the checkpoint's state does
        not decode."""
        self._o, self._peer_group, self._sinks = options, peer_group, tuple(sinks)
        checkpoint = checkpoint or MonitorCheckpoint()
        self._principals = {k: decode_principal(v) for k, v in checkpoint.principals.items()}
        self._groups = {k: decode_group(v) for k, v in checkpoint.groups.items()}
        self._active = {k for k, p in self._principals.items() if p.score > 0 or p.alert}
        self._dirty: set[str] = set()
        self._dirty_groups: set[str] = set()
        self._alerts: list[AlertRecord] = []

    def observe(self, obs: Observation) -> None:
        p, g = self._member(obs)
        self._roll(p, g, obs.time)
        earn = Earnings(self._o.rules, p, is_learning(p, self._o.learning_events,
                                                      self._o.learning_buckets))
        self._rates(p, obs, earn)
        if obs.shield:
            earn.add(Indicator.SHIELD, 1.0)
        first = probed(p, obs, self._o.window_s)
        if first is not None:
            earn.add(Indicator.PROBING, 1.0)
        for key, indicator in ((obs.tool, Indicator.NEW_TOOL), (obs.model, Indicator.NEW_MODEL)):
            rarity = novelty(p, g, key, indicator)
            if rarity:
                earn.add(indicator, rarity)
        p.events += 1
        self._dirty.add(p.principal)
        self._dirty_groups.add(p.group)
        if earn.points:
            self._score(p, obs, earn.points, first)

    def settle(self, now: float) -> list[Assessment]:
        """Every active principal's score and level at ``now``; alerts of those back at none
        are resolved, and principals whose score has faded leave the active set."""
        found = []
        for ref in sorted(self._active):
            p = self._principals[ref]
            score = decayed(p.score, p.score_at, now, self._o.half_life_s)
            level = self._o.thresholds.level(score)
            alert_id = p.alert.alert_id if p.alert else None
            if level is RiskLevel.NONE:
                resolved = alerting.resolve(p, score, now)
                self._emit(resolved)
                if score < FORGET_BELOW:
                    p.score, p.evidence = 0.0, []
                    self._active.discard(ref)
                if resolved is not None or not p.score:
                    self._dirty.add(ref)
            found.append(Assessment(ref, round(score, 3), level, now, alert_id, _summary(p)))
        return found

    def assess(self, principal: str, now: float) -> Assessment | None:
        """One principal's score and level at ``now`` (None if never seen); changes nothing."""
        p = self._principals.get(principal)
        if p is None:
            return None
        score = decayed(p.score, p.score_at, now, self._o.half_life_s)
        return Assessment(principal, round(score, 3), self._o.thresholds.level(score), now,
                          p.alert.alert_id if p.alert else None, _summary(p))

    def open_alerts(self) -> list[tuple[str, str]]:
        """(principal, alert id) of every alert the engine holds open."""
        return [(ref, p.alert.alert_id) for ref, p in sorted(self._principals.items())
                if p.alert is not None]

    def dismiss(self, principal: str) -> None:
        """An analyst dismissed the principal's alert: forget its score, evidence and probes
        (its baselines stay: they learned only winsorised counts)."""
        p = self._principals.get(principal)
        if p is None:
            return
        p.score, p.evidence, p.alert, p.probes = 0.0, [], None, {}
        self._active.discard(principal)
        self._dirty.add(principal)

    def changes(self) -> Changes:
        found = Changes(
            {k: encode_principal(self._principals[k]) for k in sorted(self._dirty)},
            {k: encode_group(self._groups[k]) for k in sorted(self._dirty_groups)},
            tuple(self._alerts),
            tuple(d for a in self._alerts for d in alerting.deliveries(a, self._sinks)))
        self._dirty, self._dirty_groups, self._alerts = set(), set(), []
        return found

    def _member(self, obs: Observation) -> tuple[PrincipalState, GroupState]:
        p = self._principals.get(obs.principal)
        if p is None:
            p = PrincipalState(obs.principal, obs.kind, self._peer_group(obs.principal, obs.kind))
            self._principals[obs.principal] = p
            self._groups.setdefault(p.group, GroupState()).members += 1
        return p, self._groups.setdefault(p.group, GroupState())

    def _roll(self, p: PrincipalState, g: GroupState, time: float) -> None:
        """Close the open bucket once an event falls in a later one: both baselines learn its
        (winsorised) counts, and the new bucket's allowances are fixed."""
        bucket = int(time // self._o.bucket_s)
        if p.bucket >= 0 and bucket <= p.bucket:
            return
        if p.bucket >= 0:
            for key in RATE_KEYS:
                value = winsorised(p.counts.get(key, 0.0), p.limits.get(key, 0.0))
                p.baseline.setdefault(key, Ewma()).learn(value, self._o.alpha)
                g.baseline.setdefault(key, Ewma()).learn(value, self._o.group_alpha)
        p.bucket, p.counts, p.earned = bucket, {}, {}
        p.limits = {i.value: allowance(self._o.rules[i], p.baseline.get(i.value, Ewma()),
                                       g.baseline.get(i.value, Ewma()), self._o.prior_buckets,
                                       self._o.newcomer_slack)
                    for i in RATE_INDICATORS}

    def _rates(self, p: PrincipalState, obs: Observation, earn: Earnings) -> None:
        earn.count(Indicator.VOLUME, 1.0)
        if obs.denied:
            earn.count(Indicator.DENIED, 1.0)
        if obs.sensitive:
            earn.count(Indicator.SENSITIVE, 1.0)
        fresh = touched(p, obs, self._o.window_s)
        if fresh:
            earn.count(Indicator.DOCUMENTS, float(fresh))
        if obs.egress_kt:
            earn.count(Indicator.CONSUMER, obs.egress_kt)
        if obs.off_hours and p.kind == "user":
            earn.count(Indicator.OFF_HOURS, 1.0)

    def _score(self, p: PrincipalState, obs: Observation, points: dict[str, float],
               first: AlertEvidence | None) -> None:
        p.score = decayed(p.score, p.score_at, obs.time, self._o.half_life_s) + sum(
            points.values())
        p.score_at = max(p.score_at, obs.time)
        if first is not None and all(e.seq != first.seq for e in p.evidence):
            p.evidence.append(first)  # the first attempt of a probed topic explains the rest
        p.evidence.append(AlertEvidence(
            obs.seq, obs.event_id, obs.time, obs.action, obs.resource, obs.effect,
            {k: round(v, 3) for k, v in sorted(points.items())}, tuple(sorted(obs.topics))))
        del p.evidence[:-MAX_EVIDENCE]
        self._active.add(p.principal)
        level = self._o.thresholds.level(p.score)
        self._emit(alerting.escalate(p, level, p.score, obs.time, obs.seq, self._o.alert_level))

    def _emit(self, alert: AlertRecord | None) -> None:
        if alert is not None:
            self._alerts.append(alert)


def _summary(p: PrincipalState) -> str:
    topics = [t for e in p.evidence for t in e.topics]
    return alerting.summary(alerting.indicator_points(p.evidence), topics)

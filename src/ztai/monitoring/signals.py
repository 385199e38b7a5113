"""What one observation adds to a principal's state, indicator by indicator: points with the
per-bucket allowances and caps (``Earnings``), probed topics, freshly touched documents, and
tools or models used for the first time (weighed by how rare they are among the peers)."""

from __future__ import annotations

from collections.abc import Mapping

from ztai.monitoring.model import Indicator, Observation
from ztai.monitoring.scoring import Rule
from ztai.monitoring.state import (
    MAX_DOCUMENTS,
    MAX_GROUP_TOOLS,
    MAX_TOOLS,
    MAX_TOPICS,
    GroupState,
    PrincipalState,
    Probe,
)
from ztai.storage.model import AlertEvidence


class Earnings:
    """The points one event earns, per indicator, within the open bucket's caps."""

    def __init__(self, rules: Mapping[Indicator, Rule], p: PrincipalState,
                 learning: bool) -> None:
        self._rules, self._p, self._learning = rules, p, learning
        self.points: dict[str, float] = {}

    def count(self, indicator: Indicator, units: float) -> None:
        """A rate indicator: only the units beyond the bucket's allowance earn points."""
        key = indicator.value  # state keys are plain strings: they travel as JSON
        before = self._p.counts.get(key, 0.0)
        after = before + units
        self._p.counts[key] = after
        limit = self._p.limits.get(key, self._rules[indicator].floor)
        over = max(0.0, after - limit) - max(0.0, before - limit)
        if over > 0:
            self.add(indicator, over)

    def add(self, indicator: Indicator, units: float) -> None:
        rule, key = self._rules[indicator], indicator.value
        if rule.after_learning and self._learning:
            return
        points = min(rule.weight * units, rule.cap - self._p.earned.get(key, 0.0))
        if points > 0:
            self._p.earned[key] = self._p.earned.get(key, 0.0) + points
            self.points[key] = self.points.get(key, 0.0) + points


def probed(p: PrincipalState, obs: Observation, window_s: float) -> AlertEvidence | None:
    """If this refused attempt repeats a topic refused before within the window, the evidence
    of that topic's first attempt (earliest of several); else None. Records the attempt."""
    if not obs.denied:
        return None
    repeated: AlertEvidence | None = None
    for topic in sorted(obs.topics):
        probe = p.probes.get(topic)
        if probe is None or obs.time - probe.first_at > window_s:
            p.probes[topic] = Probe(1, obs.time, obs.time, _attempt(obs))
            continue
        probe.count += 1
        probe.last_at = max(probe.last_at, obs.time)
        if repeated is None or probe.first.seq < repeated.seq:
            repeated = probe.first
    while len(p.probes) > MAX_TOPICS:
        del p.probes[min(p.probes, key=lambda t: (p.probes[t].last_at, t))]
    return repeated


def touched(p: PrincipalState, obs: Observation, window_s: float) -> int:
    """How many of the sensitive documents in ``obs`` were not touched within the window."""
    fresh = 0
    for doc in sorted(obs.documents):
        last = p.documents.get(doc)
        if last is None or obs.time - last > window_s:
            fresh += 1
        p.documents[doc] = obs.time if last is None else max(last, obs.time)
    while len(p.documents) > MAX_DOCUMENTS:
        del p.documents[min(p.documents, key=lambda d: (p.documents[d], d))]
    return fresh


def is_learning(p: PrincipalState, events: int, buckets: int) -> bool:
    """Fewer than ``events`` events or ``buckets`` closed buckets behind the principal."""
    volume = p.baseline.get(Indicator.VOLUME.value)
    return p.events < events or (volume.n if volume else 0) < buckets


def novelty(p: PrincipalState, g: GroupState, name: str | None, indicator: Indicator
            ) -> float:
    """0 if ``name`` is not new for the principal; else 1 minus the share of its peers that
    use it. Records the use."""
    if name is None:
        return 0.0
    key = f"{'tool' if indicator is Indicator.NEW_TOOL else 'model'}:{name}"
    if key in p.tools or len(p.tools) >= MAX_TOOLS:
        return 0.0
    p.tools.add(key)
    users = g.users.get(key, 0)
    if key in g.users or len(g.users) < MAX_GROUP_TOOLS:
        g.users[key] = users + 1
    peers = g.members - 1
    return max(0.0, 1.0 - users / peers) if peers > 0 else 1.0


def _attempt(obs: Observation) -> AlertEvidence:
    return AlertEvidence(obs.seq, obs.event_id, obs.time, obs.action, obs.resource, obs.effect,
                         {}, tuple(sorted(obs.topics)))

"""Replaying scripted events through the engine the way the service does (observe in audit
order, settle every hour), keeping each principal's peak level and every alert revision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.monitoring.streams import CATALOGUE, HOUR, Ev, event
from ztai.audit.canonical import encode_event
from ztai.monitoring.engine import RiskEngine
from ztai.monitoring.model import Assessment
from ztai.monitoring.observe import observe
from ztai.monitoring.scoring import ScoringOptions, rank
from ztai.storage.model import AlertRecord, MonitorCheckpoint, RiskLevel


@dataclass
class Replay:
    engine: RiskEngine = field(default_factory=lambda: RiskEngine(ScoringOptions()))
    peaks: dict[str, RiskLevel] = field(default_factory=dict)
    alerts: list[AlertRecord] = field(default_factory=list)
    principals: dict[str, bytes] = field(default_factory=dict)
    groups: dict[str, bytes] = field(default_factory=dict)
    seq: int = 0
    next_settle: float | None = None

    def run(self, evs: Sequence[Ev]) -> Replay:
        for ev in evs:
            self.settle_until(ev.time)
            self.seq += 1
            found = observe(self.seq, encode_event(event(ev, self.seq)), CATALOGUE)
            assert found is not None
            self.engine.observe(found)
            now = self.engine.assess(found.principal, ev.time)
            assert now is not None
            self._peak([now])
        return self

    def settle_until(self, time: float) -> None:
        if self.next_settle is None:
            self.next_settle = (time // HOUR + 1) * HOUR
        while self.next_settle <= time:
            self._peak(self.engine.settle(self.next_settle))
            self._collect()
            self.next_settle += HOUR

    def level_at(self, time: float, principal: str) -> RiskLevel:
        self._collect()
        for a in self.engine.settle(time):
            if a.principal == principal:
                return a.level
        return RiskLevel.NONE

    def checkpoint(self) -> MonitorCheckpoint:
        self._collect()
        return MonitorCheckpoint(self.seq, dict(self.principals), dict(self.groups))

    def alerts_about(self, principal: str) -> list[AlertRecord]:
        self._collect()
        return [a for a in self.alerts if a.principal == principal]

    def _peak(self, assessments: Sequence[Assessment]) -> None:
        for a in assessments:
            peak = self.peaks.get(a.principal)
            if peak is None or rank(a.level) > rank(peak):
                self.peaks[a.principal] = a.level

    def _collect(self) -> None:
        changes = self.engine.changes()
        self.principals.update(changes.principals)
        self.groups.update(changes.groups)
        self.alerts.extend(changes.alerts)

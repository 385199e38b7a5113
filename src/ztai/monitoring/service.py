"""One step of the risk monitor (``tick``): apply analysts' dismissals, read the audit log from
the cursor in batches (each batch's state, alerts and cursor committed in one transaction, so a
restart neither loses nor double-counts an event), decay every score to now, publish changed
levels to the control state (where Cedar reads them on the next request), deliver alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ztai.core.clock import Clock
from ztai.core.errors import StoreUnavailable
from ztai.monitoring.delivery import Dispatcher, DispatchReport
from ztai.monitoring.engine import PeerGroup, RiskEngine, kind_group
from ztai.monitoring.model import ENGINE_ACTOR, Assessment
from ztai.monitoring.observe import Catalogue, MalformedEvent, observe
from ztai.monitoring.scoring import ScoringOptions
from ztai.storage.interface import AuditStore, MonitorStore, RiskStore
from ztai.storage.model import AlertStatus, MonitorSave, RiskLevel, RiskRecord

log = logging.getLogger("ztai.monitoring")


@dataclass(frozen=True, slots=True)
class MonitorStores:
    audit: AuditStore
    risk: RiskStore
    monitor: MonitorStore


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    """``override_hold_s``: a level someone else set (an analyst) stands this long before the
    monitor publishes its own again; ``max_events_per_tick`` bounds one step's work."""

    catalogue: Catalogue
    scoring: ScoringOptions = field(default_factory=ScoringOptions)
    batch_size: int = 2000
    max_events_per_tick: int = 200_000
    override_hold_s: float = 86400.0


@dataclass(frozen=True, slots=True)
class TickReport:
    cursor: int
    processed: int
    malformed: int
    published: int
    assessments: tuple[Assessment, ...]
    delivery: DispatchReport


class RiskService:
    def __init__(self, stores: MonitorStores, config: MonitorConfig, clock: Clock,
                 peer_group: PeerGroup = kind_group, dispatcher: Dispatcher | None = None
                 ) -> None:
        self._s, self._c, self._clock = stores, config, clock
        self._peer_group, self._dispatcher = peer_group, dispatcher
        self._engine: RiskEngine | None = None
        self._cursor = 0

    def tick(self, stop: Callable[[], bool] = lambda: False) -> TickReport:
        """Raises ``StoreUnavailable``, also when another monitor moved the cursor
        (``CursorMoved``). On any failure the state not yet committed is dropped: the next
        step reloads it from the store, so nothing is counted twice."""
        now = self._clock.now()
        try:
            engine = self._engine or self._load()
            self._dismissed(engine)
            processed, malformed = self._catch_up(engine, stop)
            assessments = engine.settle(now)
            self._save(engine, self._cursor)
            published = self._publish(assessments, now)
        except BaseException:  # whatever failed, the unsaved state must not be used again
            self._engine = None
            raise
        delivery = self._dispatcher.dispatch(now, stop) if self._dispatcher else DispatchReport()
        return TickReport(self._cursor, processed, malformed, published, tuple(assessments),
                          delivery)

    def _load(self) -> RiskEngine:
        checkpoint = self._s.monitor.monitor_checkpoint()
        sinks = self._dispatcher.sink_names if self._dispatcher else ()
        try:
            self._engine = RiskEngine(self._c.scoring, self._peer_group, sinks, checkpoint)
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreUnavailable(f"risk monitor state does not decode: {exc}") from exc
        self._cursor = checkpoint.cursor
        return self._engine

    def _dismissed(self, engine: RiskEngine) -> None:
        for principal, alert_id in engine.open_alerts():
            alert = self._s.monitor.get_alert(alert_id)
            if alert is not None and alert.status is AlertStatus.DISMISSED:
                engine.dismiss(principal)

    def _catch_up(self, engine: RiskEngine, stop: Callable[[], bool]) -> tuple[int, int]:
        processed = malformed = 0
        while processed < self._c.max_events_per_tick and not stop():
            batch = list(self._s.audit.read(self._cursor, self._c.batch_size))
            if not batch:
                break
            for entry in batch:
                try:
                    found = observe(entry.seq, entry.payload, self._c.catalogue)
                except MalformedEvent as exc:
                    malformed += 1
                    log.error("risk monitor skips an unreadable audit event: %s", exc)
                    continue
                if found is not None:
                    engine.observe(found)
            processed += len(batch)
            self._save(engine, batch[-1].seq)
        return processed, malformed

    def _save(self, engine: RiskEngine, cursor: int) -> None:
        changes = engine.changes()
        if cursor == self._cursor and not (changes.principals or changes.groups
                                           or changes.alerts):
            return  # nothing to commit
        self._s.monitor.save_monitor(MonitorSave(
            self._cursor, cursor, changes.principals, changes.groups, changes.alerts,
            changes.deliveries))
        self._cursor = cursor

    def _publish(self, assessments: list[Assessment], now: float) -> int:
        """Set the levels that changed, except where someone else's level still holds. A level
        nobody backs any more (the monitor's own, or a hand-set one past its hold) goes back to
        none."""
        current = self._s.risk.risk_levels()
        wanted = {a.principal: a for a in assessments}
        for ref, held in current.items():
            if ref not in wanted and (held.set_by == ENGINE_ACTOR
                                      or now >= held.at + self._c.override_hold_s):
                wanted[ref] = Assessment(ref, 0.0, RiskLevel.NONE, now)
        published = 0
        for ref, assessment in sorted(wanted.items()):
            record = current.get(ref)
            if record is not None and record.set_by != ENGINE_ACTOR \
                    and now < record.at + self._c.override_hold_s:
                continue
            if (record.level if record else RiskLevel.NONE) is assessment.level:
                continue
            self._s.risk.set_risk(RiskRecord(ref, assessment.level, _reason(assessment),
                                             ENGINE_ACTOR, now))
            published += 1
        return published


def _reason(a: Assessment) -> str:
    text = f"risk score {a.score:g}: {a.summary}" if a.summary else f"risk score {a.score:g}"
    return f"{text} (alert {a.alert_id})" if a.alert_id else text

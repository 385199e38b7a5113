"""The monitor's step over real stores: levels published to the control state, the cursor
committed with the state (restarts and crashes neither lose nor double-count), two monitors
never both count an event, analysts' overrides and dismissals, unreadable events."""

from __future__ import annotations

import dataclasses
from contextlib import closing
from pathlib import Path

import pytest

from tests.monitoring.streams import CATALOGUE, DAY, HOUR, MONDAY, Ev, append, probing
from ztai.core.clock import FixedClock
from ztai.core.errors import StoreUnavailable
from ztai.monitoring.delivery import Dispatcher
from ztai.monitoring.model import ENGINE_ACTOR
from ztai.monitoring.pseudonym import Pseudonymizer
from ztai.monitoring.review import AlertReview
from ztai.monitoring.service import MonitorConfig, MonitorStores, RiskService
from ztai.storage.interface import CursorMoved
from ztai.storage.memory import MemoryAuditStore, MemoryControlStore, MemoryMonitorStore
from ztai.storage.model import (
    AlertRecord,
    AlertStatus,
    ChainedEntry,
    MonitorSave,
    RiskLevel,
    RiskRecord,
)
from ztai.storage.sqlite import SqliteAuditStore, SqliteControlStore, SqliteMonitorStore

ADELE = "user:adele"
ASKED = MONDAY + 7 * DAY + 2 * HOUR
KEY = Pseudonymizer(b"k" * 32)


def routine(who: str = ADELE) -> list[Ev]:
    return [Ev(who, MONDAY + d * DAY + h * HOUR + i * 600, label="Public")
            for d in range(4) for h in range(8) for i in range(6)]


def story() -> list[Ev]:
    bob = [Ev("user:bob", ASKED + i * 90, label="Public") for i in range(20)]
    return sorted([*routine(), *routine("user:bob"), *probing(ADELE, ASKED, 8), *bob],
                  key=lambda e: e.time)


@dataclasses.dataclass
class Rig:
    audit: MemoryAuditStore = dataclasses.field(default_factory=MemoryAuditStore)
    control: MemoryControlStore = dataclasses.field(default_factory=MemoryControlStore)
    monitor: MemoryMonitorStore = dataclasses.field(default_factory=MemoryMonitorStore)
    clock: FixedClock = dataclasses.field(default_factory=lambda: FixedClock(ASKED + HOUR))

    def service(self, batch_size: int = 500) -> RiskService:
        return RiskService(MonitorStores(self.audit, self.control, self.monitor),
                           MonitorConfig(CATALOGUE, batch_size=batch_size), self.clock)

    def level(self, who: str = ADELE) -> RiskLevel | None:
        record = self.control.risk_levels().get(who)
        return None if record is None else record.level


def test_a_step_publishes_levels_for_policy() -> None:
    rig = Rig()
    seqs = append(rig.audit, story())
    report = rig.service().tick()
    assert (report.cursor, report.processed, report.published) == (seqs[-1], len(seqs), 1)
    record = rig.control.risk_levels()[ADELE]
    assert (record.level, record.set_by, record.at) == (RiskLevel.ELEVATED, ENGINE_ACTOR,
                                                        rig.clock.now())
    assert "probing 48" in record.reason
    assert "term.obsidian" in record.reason
    assert "alert ra-" in record.reason
    assert "user:bob" not in rig.control.risk_levels()
    assert rig.service().tick().published == 0  # nothing changed, nothing written


def test_levels_decay_back_to_none_and_the_alert_resolves() -> None:
    rig = Rig()
    append(rig.audit, story())
    service = rig.service()
    service.tick()
    rig.clock.advance(4 * HOUR)
    service.tick()
    assert rig.level() is RiskLevel.MODERATE
    rig.clock.advance(20 * HOUR)
    service.tick()
    assert rig.level() is RiskLevel.NONE
    [alert] = rig.monitor.list_alerts()
    assert (alert.status, alert.revision) == (AlertStatus.RESOLVED, 3)


def _final(rig: Rig) -> tuple[object, ...]:
    checkpoint = rig.monitor.monitor_checkpoint()
    return (checkpoint.cursor, dict(checkpoint.principals), dict(checkpoint.groups),
            rig.monitor.list_alerts(), {k: r.level for k, r in rig.control.risk_levels().items()})


def test_a_restart_in_the_middle_neither_loses_nor_double_counts() -> None:
    evs = story()
    whole = Rig()
    append(whole.audit, evs)
    whole.service().tick()
    split = Rig()
    append(split.audit, evs[:150])
    split.service(batch_size=40).tick()
    append(split.audit, evs[150:])
    split.service(batch_size=40).tick()  # a new process: it starts from the store
    assert _final(split) == _final(whole)


class FailingOnce(MemoryMonitorStore):
    """A store whose third save fails, as a crash between two batches would."""

    def __init__(self) -> None:
        super().__init__()
        self.saves = 0

    def save_monitor(self, save: MonitorSave) -> None:
        self.saves += 1
        if self.saves == 3:
            raise StoreUnavailable("disk full")
        super().save_monitor(save)


def test_a_failed_save_is_replayed_from_the_store_not_from_memory() -> None:
    evs = story()
    whole = Rig()
    append(whole.audit, evs)
    whole.service().tick()
    flaky = Rig(monitor=FailingOnce())
    append(flaky.audit, evs)
    service = flaky.service(batch_size=40)
    with pytest.raises(StoreUnavailable, match="disk full"):
        service.tick()
    service.tick()
    assert _final(flaky) == _final(whole)


def test_two_monitors_on_one_store_never_both_count_an_event() -> None:
    evs = story()
    whole = Rig()
    append(whole.audit, evs)
    whole.service().tick()
    shared = Rig()
    one, two = shared.service(batch_size=60), shared.service(batch_size=60)
    append(shared.audit, evs[:100])
    one.tick()
    append(shared.audit, evs[100:200])
    two.tick()  # starts from the store: the events `one` counted are not counted again
    with pytest.raises(CursorMoved):
        one.tick()  # `two` moved the cursor since `one` last read it
    append(shared.audit, evs[200:])
    one.tick()  # reloaded from the store
    with pytest.raises(CursorMoved):
        two.tick()
    two.tick()
    assert _final(shared) == _final(whole)


def test_an_analyst_override_holds_for_its_time() -> None:
    rig = Rig()
    append(rig.audit, story())
    rig.control.set_risk(RiskRecord(ADELE, RiskLevel.NONE, "known red-team exercise",
                                    "user:secops", rig.clock.now() - 60))
    service = rig.service()
    service.tick()
    assert rig.level() is RiskLevel.NONE  # the analyst's level stands
    assert rig.monitor.list_alerts()[0].level is RiskLevel.ELEVATED  # the alert is still raised
    rig.clock.advance(86400 - 60)
    append(rig.audit, probing(ADELE, rig.clock.now() - 600, 8))
    service.tick()
    assert rig.level() is RiskLevel.ELEVATED
    assert rig.control.risk_levels()[ADELE].set_by == ENGINE_ACTOR


def test_a_hand_set_level_nobody_backs_ends_with_its_hold() -> None:
    rig = Rig()
    rig.control.set_risk(RiskRecord("user:carol", RiskLevel.ELEVATED, "leaving next week",
                                    "user:secops", rig.clock.now()))
    service = rig.service()
    service.tick()
    assert rig.level("user:carol") is RiskLevel.ELEVATED
    rig.clock.advance(86400)
    service.tick()
    record = rig.control.risk_levels()["user:carol"]
    assert (record.level, record.set_by) == (RiskLevel.NONE, ENGINE_ACTOR)


def test_a_dismissed_alert_clears_the_score_and_a_new_one_can_follow() -> None:
    rig = Rig()
    append(rig.audit, story())
    service = rig.service()
    service.tick()
    [alert] = rig.monitor.list_alerts()
    AlertReview(rig.monitor, KEY, rig.clock).dismiss(alert.alert_id, "user:secops",
                                                      "approved research on Obsidian")
    service.tick()
    assert rig.level() is RiskLevel.NONE
    assert rig.monitor.get_alert(alert.alert_id) is not None
    assert rig.monitor.list_alerts()[0].status is AlertStatus.DISMISSED
    append(rig.audit, probing(ADELE, rig.clock.now() - 60, 8))  # a week later, say
    service.tick()
    assert rig.level() is RiskLevel.ELEVATED
    newest = rig.monitor.list_alerts(AlertStatus.OPEN)
    assert len(newest) == 1
    assert newest[0].alert_id != alert.alert_id


def test_an_unreadable_event_is_skipped_and_counted() -> None:
    rig = Rig()
    append(rig.audit, probing(ADELE, ASKED, 2))
    rig.audit.append([ChainedEntry(3, b"{not json", "", "")], None)
    append(rig.audit, probing(ADELE, ASKED + 300, 6))
    report = rig.service().tick()
    assert (report.processed, report.malformed, report.cursor) == (9, 1, 9)
    assert rig.level() is not None


class Recorder:
    def __init__(self) -> None:
        self.sent: list[AlertRecord] = []

    def send(self, alert: AlertRecord) -> None:
        self.sent.append(alert)

    def close(self) -> None:
        return None


def test_alerts_reach_the_sinks_pseudonymised() -> None:
    rig, sink = Rig(), Recorder()
    append(rig.audit, story())
    service = RiskService(MonitorStores(rig.audit, rig.control, rig.monitor),
                          MonitorConfig(CATALOGUE), rig.clock,
                          dispatcher=Dispatcher(rig.monitor, {"webhook": sink}, KEY))
    report = service.tick()
    assert report.delivery.delivered == 1
    [sent] = sink.sent
    assert sent.principal == KEY.pseudonym(ADELE) != ADELE
    assert sent.level is RiskLevel.ELEVATED  # the latest revision, not one per step
    assert service.tick().delivery.delivered == 0


def test_the_monitor_runs_on_sqlite_across_restarts(tmp_path: Path) -> None:
    sqlite_rig = tmp_path / "ztai.db"
    evs, clock = story(), FixedClock(ASKED + HOUR)
    whole = Rig(clock=clock)
    append(whole.audit, evs)
    whole.service().tick()
    for part in (evs[:200], evs[200:]):
        with closing(SqliteAuditStore(sqlite_rig)) as audit, \
                closing(SqliteControlStore(sqlite_rig)) as control, \
                closing(SqliteMonitorStore(sqlite_rig)) as monitor:
            append(audit, part)
            RiskService(MonitorStores(audit, control, monitor),
                        MonitorConfig(CATALOGUE, batch_size=64), clock).tick()
    with closing(SqliteControlStore(sqlite_rig)) as control, \
            closing(SqliteMonitorStore(sqlite_rig)) as monitor:
        checkpoint = monitor.monitor_checkpoint()
        expected = whole.monitor.monitor_checkpoint()
        assert (checkpoint.cursor, dict(checkpoint.principals)) == (
            expected.cursor, dict(expected.principals))
        assert monitor.list_alerts() == whole.monitor.list_alerts()
        assert control.risk_levels()[ADELE].level is RiskLevel.ELEVATED

"""The contract every MonitorStore backend keeps (the risk monitor's cursor and state, alerts
and their deliveries), written against the interface only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ztai.storage.interface import CursorMoved, MonitorStore
from ztai.storage.memory import MemoryMonitorStore
from ztai.storage.model import (
    AlertDelivery,
    AlertEvidence,
    AlertRecord,
    AlertStatus,
    DeliveryStatus,
    MonitorSave,
    RiskLevel,
)
from ztai.storage.sqlite import SqliteMonitorStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MonitorStore]:
    if request.param == "memory":
        yield MemoryMonitorStore()
    else:
        with closing(SqliteMonitorStore(tmp_path / "monitor.db")) as sqlite_store:
            yield sqlite_store


EVIDENCE = (
    AlertEvidence(41, "x-41", 1_750_000_000.125, "invoke_model", "Model::demo-chat", "deny",
                  {}, ("term.obsidian",)),
    AlertEvidence(42, "x-42", 1_750_000_060.5, "invoke_model", "Model::demo-chat", "deny",
                  {"denied": 3.858, "probing": 8.0}, ("doc:plan", "term.obsidian")),
)


def _alert(alert_id: str = "ra-1", revision: int = 1, raised_at: float = 100.0,
           **changes: object) -> AlertRecord:
    alert = AlertRecord(alert_id, "user:adele", RiskLevel.MODERATE, 31.9, AlertStatus.OPEN,
                        raised_at, raised_at + revision, revision, {"denied": 3.858,
                                                                    "probing": 8.0}, EVIDENCE)
    return dataclasses.replace(alert, **changes)  # type: ignore[arg-type]  # test factory


def _save(store: MonitorStore, cursor: int, expected: int = 0, **parts: object) -> None:
    store.save_monitor(MonitorSave(expected, cursor, **parts))  # type: ignore[arg-type]


def test_a_new_store_starts_at_the_beginning(store: MonitorStore) -> None:
    checkpoint = store.monitor_checkpoint()
    assert (checkpoint.cursor, dict(checkpoint.principals), dict(checkpoint.groups)) == (
        0, {}, {})
    assert store.list_alerts() == []
    assert store.pending_deliveries(1e12, 10) == []


def test_a_save_moves_the_cursor_with_the_state(store: MonitorStore) -> None:
    _save(store, 10, principals={"user:a": b"1", "user:b": b"2"}, groups={"user": b"g"})
    _save(store, 25, 10, principals={"user:a": b"3"})
    checkpoint = store.monitor_checkpoint()
    assert checkpoint.cursor == 25
    assert dict(checkpoint.principals) == {"user:a": b"3", "user:b": b"2"}
    assert dict(checkpoint.groups) == {"user": b"g"}


def test_a_save_from_a_stale_cursor_stores_nothing(store: MonitorStore) -> None:
    _save(store, 10, principals={"user:a": b"1"})
    with pytest.raises(CursorMoved):
        _save(store, 30, 0, principals={"user:a": b"other"}, alerts=(_alert(),),
              deliveries=(AlertDelivery("ra-1", 1, "webhook"),))
    checkpoint = store.monitor_checkpoint()
    assert (checkpoint.cursor, dict(checkpoint.principals)) == (10, {"user:a": b"1"})
    assert store.get_alert("ra-1") is None
    assert store.deliveries("ra-1") == []


def test_alerts_round_trip_and_only_newer_revisions_of_open_ones_replace(
        store: MonitorStore) -> None:
    _save(store, 1, alerts=(_alert(), _alert(revision=2, level=RiskLevel.ELEVATED)))
    _save(store, 2, 1, alerts=(_alert(revision=1, score=5.0),))  # a replay of the first
    assert store.get_alert("ra-1") == _alert(revision=2, level=RiskLevel.ELEVATED)
    assert store.get_alert("nope") is None


def test_an_alert_an_analyst_closed_is_never_reopened(store: MonitorStore) -> None:
    _save(store, 1, alerts=(_alert(),))
    closed = store.close_alert("ra-1", AlertStatus.DISMISSED, "user:secops", "known test", 500.0)
    assert closed == _alert(status=AlertStatus.DISMISSED, closed_by="user:secops",
                            closed_at=500.0, close_reason="known test", updated_at=500.0)
    _save(store, 2, 1, alerts=(_alert(revision=2, level=RiskLevel.ELEVATED),),
          deliveries=(AlertDelivery("ra-1", 2, "webhook"),))
    assert store.get_alert("ra-1") == closed
    assert store.deliveries("ra-1") == []  # not for a revision that was not stored
    assert store.close_alert("ra-1", AlertStatus.DISMISSED, "user:x", "again", 600.0) is None
    assert store.close_alert("ra-404", AlertStatus.DISMISSED, "user:x", "none", 600.0) is None


def test_alerts_are_listed_newest_first_by_status(store: MonitorStore) -> None:
    alerts = [_alert(f"ra-{i}", raised_at=100.0 + i % 3) for i in range(6)]
    _save(store, 1, alerts=tuple(alerts))
    store.close_alert("ra-4", AlertStatus.DISMISSED, "user:secops", "fp", 200.0)
    listed = [a.alert_id for a in store.list_alerts()]
    assert listed == ["ra-5", "ra-2", "ra-4", "ra-1", "ra-3", "ra-0"]
    assert [a.alert_id for a in store.list_alerts(limit=2)] == ["ra-5", "ra-2"]
    assert [a.alert_id for a in store.list_alerts(AlertStatus.DISMISSED)] == ["ra-4"]
    assert "ra-4" not in [a.alert_id for a in store.list_alerts(AlertStatus.OPEN)]


def test_deliveries_wait_until_due_and_record_their_outcome(store: MonitorStore) -> None:
    _save(store, 1, alerts=(_alert(), _alert("ra-2")),
          deliveries=(AlertDelivery("ra-1", 1, "webhook"), AlertDelivery("ra-1", 1, "syslog"),
                      AlertDelivery("ra-2", 1, "webhook", next_at=50.0)))
    due = store.pending_deliveries(10.0, 10)
    assert [(d.alert_id, d.sink) for d in due] == [("ra-1", "syslog"), ("ra-1", "webhook")]
    failed = dataclasses.replace(due[1], attempts=1, next_at=40.0, last_error="HTTP 500",
                                 updated_at=10.0)
    store.record_delivery(failed)
    store.record_delivery(dataclasses.replace(due[0], status=DeliveryStatus.DELIVERED,
                                              attempts=1, updated_at=10.0))
    assert store.pending_deliveries(10.0, 10) == []
    assert [(d.alert_id, d.sink) for d in store.pending_deliveries(60.0, 10)] == [
        ("ra-1", "webhook"), ("ra-2", "webhook")]
    assert store.pending_deliveries(60.0, 1) == [failed]
    assert store.deliveries("ra-1")[1] == failed


def test_a_new_revision_replaces_the_pending_delivery_but_not_a_sent_one(
        store: MonitorStore) -> None:
    _save(store, 1, alerts=(_alert(),), deliveries=(AlertDelivery("ra-1", 1, "webhook"),
                                                     AlertDelivery("ra-1", 1, "syslog")))
    [syslog, _] = store.pending_deliveries(0.0, 10)
    sent = dataclasses.replace(syslog, status=DeliveryStatus.DELIVERED, attempts=1)
    store.record_delivery(sent)
    _save(store, 2, 1, alerts=(_alert(revision=2),),
          deliveries=(AlertDelivery("ra-1", 2, "webhook"), AlertDelivery("ra-1", 2, "syslog"),
                      AlertDelivery("ra-1", 2, "syslog")))  # a duplicate is ignored
    assert [(d.revision, d.sink, d.status) for d in store.deliveries("ra-1")] == [
        (1, "syslog", DeliveryStatus.DELIVERED), (2, "syslog", DeliveryStatus.PENDING),
        (2, "webhook", DeliveryStatus.PENDING)]
    _save(store, 3, 2, alerts=(_alert(revision=2),),
          deliveries=(AlertDelivery("ra-1", 2, "webhook"),))  # a replay changes nothing
    assert len(store.deliveries("ra-1")) == 3


def test_two_sqlite_monitors_on_one_file_never_both_advance(tmp_path: Path) -> None:
    with closing(SqliteMonitorStore(tmp_path / "m.db")) as one, \
            closing(SqliteMonitorStore(tmp_path / "m.db")) as two:
        start = one.monitor_checkpoint().cursor
        assert two.monitor_checkpoint().cursor == start
        _save(one, 5, start)
        with pytest.raises(CursorMoved):
            _save(two, 5, start)
        assert two.monitor_checkpoint().cursor == 5

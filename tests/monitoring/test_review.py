"""Pseudonymised review: keyed pseudonyms, unmasking and dismissing only with a reason, the
key file; and the OCSF Detection Finding an alert becomes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ztai.core.clock import FixedClock
from ztai.core.errors import BadRequest
from ztai.monitoring.ocsf import detection_finding
from ztai.monitoring.pseudonym import Pseudonymizer, load_key
from ztai.monitoring.review import AlertReview, UnknownAlert
from ztai.storage.memory import MemoryMonitorStore
from ztai.storage.model import (
    AlertDelivery,
    AlertEvidence,
    AlertRecord,
    AlertStatus,
    MonitorSave,
    RiskLevel,
)

KEY = Pseudonymizer(b"a" * 32)
EVIDENCE = (AlertEvidence(5, "x-5", 1000.0, "invoke_model", "Model::demo-chat", "deny", {},
                          ("term.obsidian",)),
            AlertEvidence(9, "x-9", 1300.5, "invoke_model", "Model::demo-chat", "deny",
                          {"probing": 8.0}, ("term.obsidian",)))


def _alert(alert_id: str = "ra-9", **changes: object) -> AlertRecord:
    fields: dict[str, object] = dict(
        alert_id=alert_id, principal="user:adele", level=RiskLevel.ELEVATED, score=71.8,
        status=AlertStatus.OPEN, raised_at=1200.0, updated_at=1300.5, revision=2,
        indicators={"probing": 48.0}, evidence=EVIDENCE)
    return AlertRecord(**{**fields, **changes})  # type: ignore[arg-type]  # test factory


def _review(*alerts: AlertRecord) -> tuple[AlertReview, MemoryMonitorStore]:
    store = MemoryMonitorStore()
    store.save_monitor(MonitorSave(0, 1, alerts=alerts, deliveries=tuple(
        AlertDelivery(a.alert_id, a.revision, "syslog") for a in alerts)))
    return AlertReview(store, KEY, FixedClock(5000.0)), store


def test_pseudonyms_are_stable_keyed_and_keep_the_kind() -> None:
    adele = KEY.pseudonym("user:adele")
    assert adele == KEY.pseudonym("user:adele")
    assert adele.startswith("user:p-")
    assert len(adele) == len("user:p-") + 16
    assert "adele" not in adele
    assert adele != KEY.pseudonym("user:bob")
    assert adele != Pseudonymizer(b"b" * 32).pseudonym("user:adele")
    assert KEY.pseudonym("agent:mailbot").startswith("agent:p-")
    assert "a" * 32 not in repr(KEY)
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymizer(b"short")


def test_analysts_see_pseudonyms_until_they_unmask_with_a_reason() -> None:
    review, _ = _review(_alert(), _alert("ra-3", principal="agent:mailbot", raised_at=10.0))
    listed = review.list()
    assert [v.alert.principal for v in listed] == [KEY.pseudonym("user:adele"),
                                                   KEY.pseudonym("agent:mailbot")]
    assert all(v.masked for v in listed)
    shown = review.show("ra-9")
    assert shown.alert.principal == KEY.pseudonym("user:adele")
    assert [e.seq for e in shown.alert.evidence] == [5, 9]
    assert [d.sink for d in shown.deliveries] == ["syslog"]
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(BadRequest, match="reason"):
            review.unmask("ra-9", reason)
    unmasked = review.unmask("ra-9", "HR case 1234")
    assert (unmasked.alert.principal, unmasked.masked) == ("user:adele", False)
    assert unmasked.pseudonym == KEY.pseudonym("user:adele")
    with pytest.raises(UnknownAlert):
        review.unmask("ra-404", "curious")


def test_only_an_open_alert_is_dismissed_and_only_with_a_reason() -> None:
    review, store = _review(_alert(), _alert("ra-1", status=AlertStatus.RESOLVED))
    with pytest.raises(BadRequest, match="reason"):
        review.dismiss("ra-9", "user:secops", " ")
    dismissed = review.dismiss("ra-9", "user:secops", "approved research")
    assert dismissed.alert.status is AlertStatus.DISMISSED
    assert dismissed.alert.principal == KEY.pseudonym("user:adele")
    stored = store.get_alert("ra-9")
    assert stored is not None
    assert (stored.closed_by, stored.close_reason, stored.closed_at) == (
        "user:secops", "approved research", 5000.0)
    for alert_id in ("ra-9", "ra-1"):
        with pytest.raises(BadRequest, match="not open"):
            review.dismiss(alert_id, "user:secops", "again")
    with pytest.raises(UnknownAlert):
        review.show("ra-404")


def test_the_key_file_is_created_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "risk-pseudonym.key"
    key = load_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key
    path.write_text("not hex")
    with pytest.raises(ValueError, match="hex"):
        load_key(path)


def test_an_alert_is_an_ocsf_detection_finding() -> None:
    finding = detection_finding(KEY.mask(_alert()))
    assert {k: finding[k] for k in ("class_uid", "category_uid", "activity_id", "type_uid",
                                    "severity_id", "status_id", "risk_level_id")} == {
        "class_uid": 2004, "category_uid": 2, "activity_id": 2, "type_uid": 200402,
        "severity_id": 4, "status_id": 1, "risk_level_id": 3}
    assert finding["time"] == 1_300_500
    assert finding["is_alert"] is True
    assert finding["metadata"]["version"] == "1.4.0"
    assert finding["metadata"]["product"]["name"] == "ztai"
    info = finding["finding_info"]
    assert (info["uid"], info["first_seen_time"], info["last_seen_time"]) == (
        "ra-9", 1_000_000, 1_300_500)
    assert info["related_events"] == [{"uid": "x-5", "product_uid": "5"},
                                      {"uid": "x-9", "product_uid": "9"}]
    assert finding["actor"]["user"] == {"uid": KEY.pseudonym("user:adele"), "type_id": 1,
                                        "type": "User"}
    assert [e["data"]["seq"] for e in finding["evidences"]] == [5, 9]
    assert "adele" not in str(finding)


@pytest.mark.parametrize(("status", "revision", "activity", "status_id"), [
    (AlertStatus.OPEN, 1, 1, 1), (AlertStatus.RESOLVED, 3, 3, 4),
    (AlertStatus.DISMISSED, 2, 3, 3)])
def test_ocsf_activity_and_status_follow_the_alert(status: AlertStatus, revision: int,
                                                   activity: int, status_id: int) -> None:
    finding = detection_finding(_alert(status=status, revision=revision))
    assert (finding["activity_id"], finding["status_id"]) == (activity, status_id)
    assert finding["type_uid"] == 200400 + activity

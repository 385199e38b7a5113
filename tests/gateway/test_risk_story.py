"""The oversharing story's risk part, end to end through the OpenAI route and the admin API:
Adele's repeated refused asks about Project Obsidian raise her risk level; her next request to
a Confidential model is blocked (elevated) and, as the level decays, stepped up (moderate) and
finally allowed again; the alert carries the refused events as evidence, analysts see it
pseudonymised and unmasking it needs a reason and is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gateway.harness import LABELS, MODELS, Harness, Options, auth, chat, harness
from ztai.core.model import PrincipalKind
from ztai.gateway.classify import Classifier
from ztai.identity.apikey import KeySpec, issue_key
from ztai.monitoring.delivery import Dispatcher
from ztai.monitoring.model import ENGINE_ACTOR
from ztai.monitoring.observe import Catalogue
from ztai.monitoring.pseudonym import Pseudonymizer
from ztai.monitoring.review import AlertReview
from ztai.monitoring.service import MonitorConfig, MonitorStores, RiskService
from ztai.policy.bundled import starter_policies
from ztai.protection.labels import LabelRule, LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.protection.terms import TermDetector
from ztai.storage.memory import MemoryMonitorStore
from ztai.storage.model import AlertRecord, AlertStatus, RiskLevel

pytestmark = pytest.mark.anyio

POLICIES = """
@id("confidential-needs-clearance")
@reason("Confidential content needs the obsidian clearance")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has content_label_rank && context.content_label_rank >= 2 }
unless { principal in Group::"obsidian" };

@id("no-confidential-at-elevated-risk")
@reason("elevated risk: Confidential content and models are blocked")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has risk_level && context.risk_level == "elevated" }
when {
  (resource has label && resource.label == "Confidential") ||
  (context has content_label_rank && context.content_label_rank >= 2)
};

@id("step-up-confidential-at-moderate-risk")
@reason("moderate risk: Confidential models need multi-factor authentication")
@obligation("step_up")
@acr_values("urn:ztai:mfa")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has risk_level && context.risk_level == "moderate" }
when { resource has label && resource.label == "Confidential" }
unless { context has mfa && context.mfa };
"""
KEY = Pseudonymizer(b"story-key-" * 4)
MONDAY_9AM = 1_750_064_400.0  # the harness clock starts on the Sunday before
HOUR = 3600.0


class Inbox:
    """A sink that keeps what it is sent."""

    def __init__(self) -> None:
        self.alerts: list[AlertRecord] = []

    def send(self, alert: AlertRecord) -> None:
        self.alerts.append(alert)

    def close(self) -> None:
        return None


def _options(store: MemoryMonitorStore) -> Options:
    scheme = LabelScheme(rules=(LabelRule(("term.*",), "Confidential"),
                                LabelRule(("pii.*",), "General")))
    terms = TermDetector.from_groups({"obsidian": ["Project Obsidian"]})
    return Options(dlp=Classifier((structured_pii_detector(), terms), scheme),
                   policy_texts={**starter_policies(), "40-risk.cedar": POLICIES},
                   alerts=lambda clock: AlertReview(store, KEY, clock))


def _monitor(h: Harness, store: MemoryMonitorStore, inbox: Inbox) -> RiskService:
    catalogue = Catalogue({name: tier for name, tier in MODELS})
    return RiskService(MonitorStores(h.audit, h.control, store), MonitorConfig(catalogue),
                       h.clock, dispatcher=Dispatcher(store, {"inbox": inbox}, KEY))


async def _ask(h: Harness, key: str, model: str, text: str) -> Any:
    h.clock.advance(60)
    return await h.client.post("/v1/chat/completions", headers=auth(key),
                               json=chat(model, text))


async def test_adele_probing_obsidian_raises_her_risk_and_policy_follows(
        tmp_path: Path) -> None:
    store, inbox = MemoryMonitorStore(), Inbox()
    async with harness(tmp_path, _options(store)) as h:
        assert LABELS["secret-chat"] == "Confidential"
        adele = issue_key(h.key_store, KeySpec("adele", PrincipalKind.USER,
                                               frozenset({"staff"})), h.clock)[0].reveal()
        monitor = _monitor(h, store, inbox)
        h.clock.advance(MONDAY_9AM - h.clock.now())
        for _ in range(4):  # an ordinary morning: a few questions an hour
            for text in ("Draft a status update", "Summarise the board minutes"):
                assert (await _ask(h, adele, "demo-chat", text)).status_code == 200
                assert (await _ask(h, adele, "secret-chat", text)).status_code == 200
            h.clock.advance(HOUR - 4 * 60)
        monitor.tick()
        assert h.control.risk_levels().get("user:adele") is None

        refused = [await _ask(h, adele, "demo-chat", f"What is the status of Project Obsidian? "
                                                     f"({n})") for n in range(7)]
        assert {r.status_code for r in refused} == {403}
        assert "clearance" in refused[0].json()["error"]["message"]
        report = monitor.tick()
        level = h.control.risk_levels()["user:adele"]
        assert (level.level, level.set_by) == (RiskLevel.ELEVATED, ENGINE_ACTOR)
        assert report.delivery.delivered == 1

        blocked = await _ask(h, adele, "secret-chat", "Summarise the board minutes")
        assert blocked.status_code == 403
        assert "elevated risk" in blocked.json()["error"]["message"]
        assert h.last_event()["decision"]["policy_ids"] == ["no-confidential-at-elevated-risk"]
        assert (await _ask(h, adele, "demo-chat", "Draft a status update")).status_code == 200

        refused_ids = {r.headers["x-ztai-exchange-id"] for r in refused}
        await _review_the_alert(h, refused_ids, inbox)

        h.clock.advance(3 * HOUR)  # she stopped: the level decays
        monitor.tick()
        assert h.control.risk_levels()["user:adele"].level is RiskLevel.MODERATE
        stepped = await _ask(h, adele, "secret-chat", "Summarise the board minutes")
        assert stepped.status_code == 401
        assert 'error="insufficient_user_authentication"' in stepped.headers["www-authenticate"]

        h.clock.advance(24 * HOUR)
        monitor.tick()
        assert h.control.risk_levels()["user:adele"].level is RiskLevel.NONE
        again = await _ask(h, adele, "secret-chat", "Summarise the board minutes")
        assert again.status_code == 200
        assert [a.status for a in store.list_alerts()] == [AlertStatus.RESOLVED]


async def _review_the_alert(h: Harness, refused_ids: set[str], inbox: Inbox) -> None:
    admin = auth(h.keys["admin"])
    listed = (await h.client.get("/admin/alerts?status=open", headers=admin)).json()["data"]
    [alert] = listed
    assert alert["principal"] == KEY.pseudonym("user:adele")
    assert alert["masked"] is True
    assert alert["level"] == "elevated"
    assert "adele" not in str(listed)

    shown = (await h.client.get(f"/admin/alerts/{alert['alert_id']}", headers=admin)).json()
    assert {e["event_id"] for e in shown["evidence"]} == refused_ids  # the refused asks
    assert all(e["decision"] == "deny" and e["topics"] == ["term.obsidian"]
               for e in shown["evidence"])
    assert [(d["sink"], d["status"]) for d in shown["deliveries"]] == [("inbox", "delivered")]
    [sent] = inbox.alerts
    assert sent.principal == alert["principal"]
    assert {e.event_id for e in sent.evidence} == refused_ids

    ocsf = (await h.client.get(f"/admin/alerts/{alert['alert_id']}/ocsf", headers=admin))
    assert ocsf.json()["finding"]["class_uid"] == 2004
    assert {e["uid"] for e in ocsf.json()["finding"]["finding_info"]["related_events"]} == \
        refused_ids

    unmask = f"/admin/alerts/{alert['alert_id']}/unmask"
    no_reason = await h.client.post(unmask, headers=admin, json={"reason": ""})
    assert no_reason.status_code == 400
    unmasked = await h.client.post(unmask, headers=admin, json={"reason": "HR case 4711"})
    assert unmasked.json()["principal"] == "user:adele"
    assert unmasked.json()["masked"] is False
    audited = h.last_event()
    assert audited["route"] == "admin.alerts.unmask"
    assert audited["principal"] == "root"
    assert audited["details"] == {"operation": "alerts.unmask", "target": alert["alert_id"],
                                  "alert_id": alert["alert_id"], "reason": "HR case 4711",
                                  "unmasked": True, "subject": "user:adele"}


async def test_an_analyst_dismisses_an_alert_and_access_is_restored(tmp_path: Path) -> None:
    store = MemoryMonitorStore()
    async with harness(tmp_path, _options(store)) as h:
        monitor = _monitor(h, store, Inbox())
        alice = h.keys["alice"]
        for n in range(9):
            await _ask(h, alice, "demo-chat", f"Tell me about Project Obsidian {n}")
        monitor.tick()
        # a newcomer's allowances are wider: nine asks are moderate for her, not elevated
        assert h.control.risk_levels()["user:alice"].level is RiskLevel.MODERATE
        assert (await _ask(h, alice, "secret-chat", "hello")).status_code == 401
        [alert] = store.list_alerts()
        admin = auth(h.keys["admin"])
        dismiss = f"/admin/alerts/{alert.alert_id}/dismiss"
        assert (await h.client.post(dismiss, headers=admin, json={})).status_code == 400
        done = await h.client.post(dismiss, headers=admin,
                                   json={"reason": "she is joining Obsidian next week"})
        assert done.json()["status"] == "dismissed"
        assert h.last_event()["details"]["reason"] == "she is joining Obsidian next week"
        monitor.tick()
        assert h.control.risk_levels()["user:alice"].level is RiskLevel.NONE
        assert (await _ask(h, alice, "secret-chat", "hello")).status_code == 200
        denied = await h.client.get("/admin/alerts", headers=auth(alice))
        assert denied.status_code == 403  # only admins review alerts


async def test_alerts_answer_clearly_when_monitoring_is_off(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.get("/admin/alerts", headers=auth(h.keys["admin"]))
        bad = await h.client.get("/admin/alerts?status=closed", headers=auth(h.keys["admin"]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "alerts_not_configured"
    assert bad.json()["error"]["param"] == "status"

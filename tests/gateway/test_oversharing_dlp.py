"""The oversharing story's DLP part through the OpenAI route, with the starter policies: pasting
(part of) a fingerprinted Confidential document into a consumer-tier model is blocked; the same
text to an internal model by a cleared user passes; personal data reaches a consumer model only
as pseudonyms and the answer is restored; findings and labels are in the audit events."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.harness import Options, auth, chat, harness
from tests.gateway.scripted import ScriptedUpstream, last_user_text
from ztai.core.model import PrincipalKind
from ztai.gateway.classify import Classifier
from ztai.identity.apikey import KeySpec, issue_key
from ztai.policy.bundled import starter_policies
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.labels import LabelRule, LabelScheme
from ztai.protection.pii import structured_pii_detector

pytestmark = pytest.mark.anyio

OBSIDIAN = (
    "Project Obsidian is our next-generation battery chemistry programme. The pilot line in "
    "Rotterdam will start production in the third quarter, targeting an energy density of 410 "
    "watt-hours per kilogram. Partners must not learn the cathode supplier before the signing."
)
# the starter policies already forbid Confidential content to consumer-tier models
POLICY = """
@id("confidential-needs-clearance")
@reason("Confidential content needs the obsidian clearance")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has content_label_rank && context.content_label_rank >= 2 }
unless { principal in Group::"obsidian" };
"""


def _options(upstream: ScriptedUpstream | None = None) -> Options:
    index = FingerprintIndex()
    index.add("obsidian-plan", OBSIDIAN, "Confidential")
    scheme = LabelScheme(rules=(LabelRule(("pii.*",), "General"),))
    return Options(dlp=Classifier((structured_pii_detector(),), scheme, index),
                   upstream=upstream or ScriptedUpstream(),
                   policy_texts={**starter_policies(), "30-clearance.cedar": POLICY})


async def test_fingerprinted_document_to_a_consumer_model_is_blocked(tmp_path: Path) -> None:
    pasted = "Summarise this for me: " + OBSIDIAN[30:250]
    async with harness(tmp_path, _options()) as h:
        cleared, _ = issue_key(h.key_store, KeySpec("adele-lead", PrincipalKind.USER,
                                                     frozenset({"staff", "obsidian"})), h.clock)
        consumer = await h.client.post("/v1/chat/completions", headers=auth(h.keys["admin"]),
                                       json=chat("demo-consumer-chat", pasted))
        uncleared = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                        json=chat("demo-chat", pasted))
        internal = await h.client.post("/v1/chat/completions", json=chat("demo-chat", pasted),
                                       headers=auth(cleared.reveal()))
        harmless = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json=chat("demo-chat", "What is Project Obsidian?"))
        events = h.events()
    assert consumer.status_code == 403
    assert "consumer-tier" in consumer.json()["error"]["message"]
    assert uncleared.status_code == 403
    assert "clearance" in uncleared.json()["error"]["message"]
    assert internal.status_code == 200
    assert harmless.status_code == 200
    assert events[0]["findings"][0]["kind"] == "fingerprint.match"
    assert events[0]["findings"][0]["detector"] == "fingerprint:obsidian-plan"
    assert OBSIDIAN[30:60] not in str(events)  # findings carry spans, never the text


async def test_personal_data_goes_to_a_consumer_model_as_pseudonyms(tmp_path: Path) -> None:
    mail = ("Draft a polite reply to Mr Okafor (chidi.okafor@example.org, +44 20 7946 0958) "
            "saying his refund was approved.")
    upstream = ScriptedUpstream(lambda body: "Dear Mr Okafor, re " + last_user_text(body))
    async with harness(tmp_path, _options(upstream)) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json=chat("demo-consumer-chat", mail))
        event = h.last_event()
    sent = last_user_text(upstream.received[-1])
    assert "chidi.okafor@example.org" not in sent
    assert "7946" not in sent
    assert sent.startswith("Draft a polite reply to Mr Okafor (⟦EMAIL_1⟧, ⟦PHONE_1⟧)")
    assert response.json()["choices"][0]["message"]["content"] == "Dear Mr Okafor, re " + mail
    assert event["label"] == event["response_label"] == "General"
    assert event["details"]["redacted"] == 2

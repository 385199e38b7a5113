"""The classify stage remembers what its detectors found in a caller's texts: a resent text is
not scanned again for that caller, another caller's identical text is; the findings are the
same either way; fingerprints are looked up every time (documents registered while serving)."""

from __future__ import annotations

import asyncio

from tests.protection.test_fingerprint import OBSIDIAN
from ztai.core.flow import Flow
from ztai.core.model import (
    Action,
    Exchange,
    ExchangeId,
    Principal,
    PrincipalId,
    PrincipalKind,
    Resource,
    ResourceKind,
    Role,
    Segment,
)
from ztai.gateway.classify import Classifier, ClassifyStage
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.labels import LabelScheme
from ztai.protection.model import Match
from ztai.protection.pii import structured_pii_detector

ALICE = Principal(PrincipalId("alice"), PrincipalKind.USER)
BOB = Principal(PrincipalId("bob"), PrincipalKind.USER)


class Counting:
    """Structured PII, counting the texts it scans."""

    name = "counting"

    def __init__(self) -> None:
        self.scanned: list[str] = []
        self._inner = structured_pii_detector()

    def detect(self, text: str) -> list[Match]:
        self.scanned.append(text)
        return self._inner.detect(text)


def _classified(stage: ClassifyStage, principal: Principal, *texts: str) -> Flow:
    exchange = Exchange(ExchangeId("x"), "chat", Action.INVOKE_MODEL,
                        Resource(ResourceKind.MODEL, "m"),
                        tuple(Segment(Role.USER, text) for text in texts))
    flow = Flow(exchange, principal)
    asyncio.run(stage.run(flow))
    return flow


def test_a_callers_resent_text_is_not_scanned_again() -> None:
    detector = Counting()
    stage = ClassifyStage(Classifier((detector,), LabelScheme()))
    mail = "Write to jane.doe@example.com about invoice 4411."
    first = _classified(stage, ALICE, mail)
    again = _classified(stage, ALICE, "You are a helpful assistant.", mail)
    other = _classified(stage, BOB, mail)
    assert detector.scanned == [mail, "You are a helpful assistant.", mail]  # alice's, bob's
    assert [f.kind for f in first.findings] == ["pii.email"]
    assert [(f.kind, f.span, f.segment) for f in again.findings] == \
        [(f.kind, f.span, 1) for f in first.findings]  # the segment is this request's
    assert [(f.kind, f.span) for f in other.findings] == [(f.kind, f.span) for f in first.findings]
    assert again.context["finding_kinds"] == ("pii.email",)


def test_fingerprints_are_looked_up_every_time() -> None:
    index = FingerprintIndex()
    stage = ClassifyStage(Classifier((Counting(),), LabelScheme(), index))
    assert _classified(stage, ALICE, OBSIDIAN).context["fingerprint_documents"] == ()
    index.add("obsidian-plan", OBSIDIAN, "Confidential")  # registered while serving
    flow = _classified(stage, ALICE, OBSIDIAN)
    assert flow.context["fingerprint_documents"] == ("obsidian-plan",)
    assert flow.context["content_label"] == "Confidential"


def test_memory_is_bounded() -> None:
    detector = Counting()
    stage = ClassifyStage(Classifier((detector,), LabelScheme()), remembered=2)
    for text in ("a 1", "b 2", "c 3", "a 1"):  # "a 1" was forgotten when "c 3" came
        _classified(stage, ALICE, text)
    assert detector.scanned == ["a 1", "b 2", "c 3", "a 1"]

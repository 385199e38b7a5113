"""Reading audit events, in the gateway's own format, into observations."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from tests.monitoring.streams import CATALOGUE, DAY, HOUR, MONDAY, Ev, event
from ztai.audit.canonical import encode_event, event_to_dict
from ztai.core.model import Finding, Span
from ztai.monitoring.model import Observation
from ztai.monitoring.observe import MalformedEvent, observe

AT = MONDAY + 2 * HOUR  # a Monday, 10:00 UTC


def _observe(ev: Ev, **changes: object) -> Observation | None:
    audit = dataclasses.replace(event(ev, 7), **changes)  # type: ignore[arg-type]
    return observe(7, encode_event(audit), CATALOGUE)


def _seen(ev: Ev, **changes: object) -> Observation:
    obs = _observe(ev, **changes)
    assert obs is not None
    return obs


def test_a_refused_ask_about_a_code_name() -> None:
    obs = _seen(Ev("user:adele", AT, denied=True, findings=("term.obsidian", "pii.email"),
                   label="Confidential"))
    assert (obs.principal, obs.kind, obs.seq, obs.event_id) == ("user:adele", "user", 7,
                                                                "x-000007")
    assert obs.denied
    assert obs.sensitive
    assert obs.effect == "deny"
    assert obs.topics == {"term.obsidian"}
    assert not obs.off_hours
    assert not obs.shield
    assert obs.egress_kt == 0


@pytest.mark.parametrize(("status", "denied"), [(401, True), (403, True), (400, False),
                                                (503, False), (504, False)])
def test_only_a_control_saying_no_counts_as_denied(status: int, denied: bool) -> None:
    assert _seen(Ev("user:a", AT, denied=True, status=status)).denied is denied


def test_nobody_to_hold_to_account_gives_nothing() -> None:
    assert _observe(Ev("user:a", AT), principal=None, principal_kind=None) is None
    assert _observe(Ev("operator:root", AT)) is None


def test_data_to_consumer_tier_models_is_counted_in_kilotokens() -> None:
    sent = _seen(Ev("user:a", AT, "Model::demo-consumer-chat", prompt_tokens=3000))
    tiny = _seen(Ev("user:a", AT, "Model::gpt-public"))
    refused = _seen(Ev("user:a", AT, "Model::gpt-public", denied=True, prompt_tokens=900))
    internal = _seen(Ev("user:a", AT, "Model::demo-chat", prompt_tokens=3000))
    assert [o.egress_kt for o in (sent, tiny, refused, internal)] == [3.0, 0.25, 0.0, 0.0]


def test_tool_calls_name_the_tool_and_a_refused_one_is_its_topic() -> None:
    obs = _seen(Ev("agent:mailbot", AT, "Tool::send_email", action="call_tool", denied=True))
    assert (obs.kind, obs.tool, obs.model) == ("agent", "send_email", None)
    assert obs.topics == {"tool:send_email"}


def test_only_request_side_attacks_are_shield_findings() -> None:
    answer = Finding("threat.exfiltration", -1, Span(0, 5), 1.0, "threats.output")
    asked = _seen(Ev("user:a", AT, findings=("threat.injection",), denied=True))
    answered = _seen(Ev("user:a", AT), findings=(answer,))
    assert asked.shield
    assert not answered.shield


def test_sensitive_documents_from_fingerprints_and_retrievals() -> None:
    obs = _seen(Ev("user:a", AT, action="retrieve", resource="KnowledgeBase::wiki",
                   findings=("fingerprint.match:obsidian-plan",), label="Confidential",
                   details={"documents": "doc-1 doc-2"}))
    public = _seen(Ev("user:a", AT, details={"documents": "doc-1"}, label="Public"))
    assert obs.documents == {"obsidian-plan", "doc-1", "doc-2"}
    assert public.documents == frozenset()
    assert not public.sensitive


def test_working_hours_are_utc_weekdays() -> None:
    saturday = _seen(Ev("user:a", MONDAY + 5 * DAY))
    late = _seen(Ev("user:a", MONDAY + 12 * HOUR))  # 20:00
    assert saturday.off_hours
    assert late.off_hours


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"principal": "a"}'])
def test_a_payload_that_is_not_an_audit_event_is_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedEvent, match="audit seq 9"):
        observe(9, payload, CATALOGUE)


def test_a_field_of_the_wrong_type_is_malformed() -> None:
    record = event_to_dict(event(Ev("user:a", AT), 1))
    record["findings"] = [{"kind": "pii.email"}]
    with pytest.raises(MalformedEvent):
        observe(1, orjson.dumps(record), CATALOGUE)

"""The stable JSON form of an audit event and its canonical bytes."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from ztai.audit.canonical import canonical_json, encode_event, event_to_dict
from ztai.core.audit import AuditEvent

from .support import make_event


def test_canonical_json_sorts_keys_without_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1.5, None, "é"]}) == '{"a":[1.5,null,"é"],"b":1}'.encode()


def test_canonical_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        canonical_json({1: "non-string key"})


def test_every_event_field_appears_in_the_dict() -> None:
    names = {f.name for f in dataclasses.fields(AuditEvent)}
    assert names <= set(event_to_dict(make_event()))


def test_event_dict_holds_plain_json_values() -> None:
    d = event_to_dict(make_event())
    assert d["decision"] == {
        "effect": "allow",
        "reasons": ["policy permits"],
        "policy_ids": ["p1"],
        "obligations": [{"kind": "redact", "params": {"kinds": "email"}}],
    }
    assert d["checks"][1] == {"name": "classify", "status": "not_run", "duration_ms": 0.0,
                              "detail": ""}
    assert d["findings"] == [{"kind": "email", "segment": 0, "span": {"start": 3, "end": 17},
                              "score": 0.99, "detector": "regex"}]
    assert d["content"] is None
    assert orjson.loads(encode_event(make_event())) == d


def test_equal_events_encode_to_identical_bytes() -> None:
    usage_reordered = make_event(usage={"completion_tokens": 30, "prompt_tokens": 12})
    assert encode_event(make_event()) == encode_event(usage_reordered)
    assert encode_event(make_event(1)) != encode_event(make_event(2))


def test_recorded_content_is_kept_when_configured() -> None:
    assert event_to_dict(make_event(content=("hi",)))["content"] == ["hi"]

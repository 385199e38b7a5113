"""Reading one audit event (the JSON the gateway's trail writes, ``ztai.audit.canonical``) into
an ``Observation``. Events nobody can be held to (unauthenticated, operators at the shell) give
None; a payload that is not an audit event raises ``MalformedEvent``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ztai.monitoring.model import Observation

PRINCIPAL_KINDS = frozenset({"user", "agent", "service"})
SENSITIVE_FAMILIES = frozenset({"secret", "fingerprint", "term"})
REFUSED = frozenset({401, 403})  # a control said no; 5xx are outages, 400s malformed input
MIN_EGRESS_KT = 0.25  # a consumer-tier request counts as at least this much data


class MalformedEvent(ValueError):
    """The payload is not an audit event this monitor can read."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What the events do not say themselves: each model's tier, the label order, which label
    counts as sensitive, and working hours (UTC; ``[start, end)`` hours, ISO weekdays)."""

    tiers: Mapping[str, str]
    labels: tuple[str, ...] = ("Public", "General", "Confidential", "Highly Confidential")
    sensitive_label: str = "Confidential"
    work_hours: tuple[int, int] = (7, 19)
    work_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    def is_sensitive_label(self, label: object) -> bool:
        if not isinstance(label, str) or label not in self.labels:
            return False
        return self.labels.index(label) >= self.labels.index(self.sensitive_label)

    def is_off_hours(self, time: float) -> bool:
        when = dt.datetime.fromtimestamp(time, dt.UTC)
        start, end = self.work_hours
        return when.isoweekday() not in self.work_days or not start <= when.hour < end


def observe(seq: int, payload: bytes, catalogue: Catalogue) -> Observation | None:
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvent(f"audit seq {seq}: payload is not JSON") from exc
    if not isinstance(event, dict):
        raise MalformedEvent(f"audit seq {seq}: payload is not an object")
    try:
        return _observe(seq, event, catalogue)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"audit seq {seq}: {type(exc).__name__}: {exc}") from exc


def _observe(seq: int, event: dict[str, Any], catalogue: Catalogue) -> Observation | None:
    principal, kind = event["principal"], event["principal_kind"]
    if not isinstance(principal, str) or kind not in PRINCIPAL_KINDS:
        return None
    time, action, resource = float(event["time"]), str(event["action"]), str(event["resource"])
    rkind, _, rid = resource.partition("::")
    findings = [f for f in event["findings"] if int(f["segment"]) >= 0]  # not the answer's
    kinds = {str(f["kind"]) for f in findings}
    docs = _documents(findings, event.get("details") or {})
    sensitive = (catalogue.is_sensitive_label(event.get("label"))
                 or catalogue.is_sensitive_label(event.get("response_label"))
                 or any(k.partition(".")[0] in SENSITIVE_FAMILIES for k in kinds))
    decision = event["decision"]
    denied = decision["effect"] == "deny" and int(event["status"]) in REFUSED
    model = event.get("model") or (rid if rkind == "Model" else None)
    tool = rid if rkind == "Tool" and action == "call_tool" else None
    return Observation(
        seq=seq, event_id=str(event["id"]), time=time, principal=f"{kind}:{principal}",
        kind=str(kind), action=action, resource=resource, effect=str(decision["effect"]),
        denied=denied,
        sensitive=sensitive,
        topics=_topics(kinds, docs, tool, resource, sensitive) if denied else frozenset(),
        documents=frozenset(docs) if sensitive else frozenset(),
        tool=tool, model=str(model) if model and rkind == "Model" else None,
        egress_kt=_egress(event, catalogue.tiers.get(str(model)), denied),
        off_hours=catalogue.is_off_hours(time),
        shield=any(k.startswith("threat.") for k in kinds),
    )


def _documents(findings: Iterable[Mapping[str, Any]], details: Mapping[str, Any]) -> set[str]:
    """Protected documents recognised in the request (fingerprints) and documents a retrieval
    returned (``details.documents``, space-separated ids)."""
    docs = {str(f["detector"]).partition(":")[2] for f in findings
            if str(f["kind"]) == "fingerprint.match" and ":" in str(f["detector"])}
    listed = details.get("documents")
    if isinstance(listed, str):
        docs.update(listed.split())
    return {d for d in docs if d}


def _topics(kinds: set[str], docs: set[str], tool: str | None, resource: str,
            sensitive: bool) -> frozenset[str]:
    """What a refused attempt was about: sensitive terms, protected documents, the tool; else,
    for sensitive content, the label's destination (repeated asks for the same thing)."""
    topics = {k for k in kinds if k.startswith("term.")} | {f"doc:{d}" for d in docs}
    if tool is not None:
        topics.add(f"tool:{tool}")
    if not topics and sensitive:
        topics.add(f"sensitive:{resource}")
    return frozenset(topics)


def _egress(event: Mapping[str, Any], tier: str | None, denied: bool) -> float:
    if tier != "consumer" or denied or event["decision"]["effect"] != "allow":
        return 0.0
    usage = event.get("usage") or {}
    tokens = usage.get("prompt_tokens", 0) if isinstance(usage, dict) else 0
    return max(MIN_EGRESS_KT, int(tokens) / 1000)

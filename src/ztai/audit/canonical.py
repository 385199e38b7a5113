"""Canonical JSON for audit payloads: sorted keys, no whitespace, UTF-8 (orjson), so that the
same event always yields the same bytes, and ``event_to_dict``, the stable JSON shape of an
``AuditEvent`` (``schema`` says which shape; bump it when the shape changes)."""

from __future__ import annotations

from typing import Any

import orjson

from ztai.core.audit import AuditEvent, CheckRecord
from ztai.core.model import Decision, Finding

SCHEMA = 1


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8. Raises ``TypeError`` for values JSON cannot hold."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def encode_event(event: AuditEvent) -> bytes:
    """The payload stored (and hashed) for ``event``."""
    return canonical_json(event_to_dict(event))


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    """Plain JSON types only (str, int, float, bool, None, list, dict)."""
    return {
        "schema": SCHEMA,
        "id": event.id,
        "time": event.time,
        "route": event.route,
        "action": str(event.action),
        "resource": event.resource,
        "principal": event.principal,
        "principal_kind": event.principal_kind,
        "credential_id": event.credential_id,
        "decision": _decision(event.decision),
        "status": event.status,
        "checks": [_check(c) for c in event.checks],
        "findings": [_finding(f) for f in event.findings],
        "content_hashes": list(event.content_hashes),
        "content": None if event.content is None else list(event.content),
        "model": event.model,
        "upstream": event.upstream,
        "stream": event.stream,
        "usage": {str(k): int(v) for k, v in event.usage.items()},
        "latency_ms": event.latency_ms,
        "error": event.error,
        "delegation": list(event.delegation),
        "auth_method": event.auth_method,
        "client_ip": event.client_ip,
        "details": {str(k): v for k, v in event.details.items()},
        "label": event.label,
        "response_label": event.response_label,
    }


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "effect": decision.effect.value,
        "reasons": list(decision.reasons),
        "policy_ids": list(decision.policy_ids),
        "obligations": [
            {"kind": o.kind, "params": {str(k): str(v) for k, v in o.params.items()}}
            for o in decision.obligations
        ],
    }


def _check(check: CheckRecord) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": check.status.value,
        "duration_ms": check.duration_ms,
        "detail": check.detail,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "kind": str(finding.kind),
        "segment": finding.segment,
        "span": {"start": finding.span.start, "end": finding.span.end},
        "score": finding.score,
        "detector": finding.detector,
    }

"""The audit event: one per exchange, whatever its outcome. Content appears only as hashes
unless raw recording is configured; a check that did not run says so."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ztai.core.model import Decision, Finding


class CheckStatus(StrEnum):
    PASSED = "passed"  # ran and raised no objection
    FLAGGED = "flagged"  # ran and objected (denied or found something)
    ERROR = "error"  # started and failed; the pipeline denied because of it
    NOT_RUN = "not_run"  # never started (an earlier stage ended the exchange)


@dataclass(frozen=True, slots=True)
class CheckRecord:
    name: str
    status: CheckStatus
    duration_ms: float = 0.0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    time: float
    route: str
    action: str
    resource: str
    principal: str | None
    principal_kind: str | None
    credential_id: str | None
    decision: Decision
    status: int
    checks: tuple[CheckRecord, ...] = ()
    findings: tuple[Finding, ...] = ()
    content_hashes: tuple[str, ...] = ()
    content: tuple[str, ...] | None = None
    model: str | None = None
    upstream: str | None = None
    stream: bool = False
    usage: dict[str, int] = field(default_factory=dict)
    latency_ms: float = 0.0
    error: str | None = None
    # who, in full: the delegation chain (original principal first, "kind:id"), how the caller
    # authenticated, from where, and the exchange's own details (e.g. which grant was approved)
    delegation: tuple[str, ...] = ()
    auth_method: str | None = None
    client_ip: str | None = None
    details: Mapping[str, str | int | bool] = field(default_factory=dict)
    label: str | None = None  # the sensitivity label of the request's content
    # the answer's label: the highest of the request's, its sources' and its own findings'
    response_label: str | None = None

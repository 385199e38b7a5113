"""What the pipeline learns about one exchange as it runs, turned into its one audit event."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache

from ztai.core.audit import AuditEvent, CheckRecord, CheckStatus
from ztai.core.errors import ZtaiError
from ztai.core.model import Decision, Effect, Exchange, Finding, Principal, ResourceKind
from ztai.gateway.errors import status_of
from ztai.protection.secrets_detector import SecretDetector


@dataclass(slots=True)
class Trail:
    id: str
    route: str
    started: float
    planned_checks: tuple[str, ...]
    exchange: Exchange | None = None
    principal: Principal | None = None
    decision: Decision | None = None
    status: int = 0
    error: ZtaiError | None = None
    audited_error: str | None = None  # the error as the audit log keeps it (``_as_audited``)
    checks: dict[str, CheckRecord] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    model: str | None = None
    upstream: str | None = None
    client_ip: str = ""
    findings: list[Finding] = field(default_factory=list)
    label: str | None = None
    response_label: str | None = None
    notes: dict[str, str | int | bool] = field(default_factory=dict)

    def check(self, name: str, status: CheckStatus, seconds: float, detail: str = "") -> None:
        self.checks[name] = CheckRecord(name, status, round(seconds * 1000, 4), detail)

    def fail(self, error: ZtaiError) -> None:
        """Record that the exchange ended in ``error``: a deny unless it was already allowed
        and then failed downstream (an upstream error after an allow stays an allow)."""
        self.error, self.audited_error = error, _as_audited(error)
        self.status = status_of(error)
        if self.decision is None or not self.decision.is_allow:
            self.decision = Decision.deny(self.audited_error)

    def reason_code(self) -> str:
        if self.error is not None:
            return self.error.code
        if self.decision is None:
            return "undecided"
        if self.decision.effect is Effect.ALLOW:
            return "allowed"
        return "policy_deny" if self.decision.policy_ids else "default_deny"

    def event(self, now: float, elapsed: float, record_content: bool) -> AuditEvent:
        exchange, principal = self.exchange, self.principal
        segments = exchange.segments if exchange is not None else ()
        not_run = (CheckRecord(n, CheckStatus.NOT_RUN) for n in self.planned_checks
                   if n not in self.checks)
        return AuditEvent(
            id=self.id,
            time=now,
            route=self.route,
            action=exchange.action.value if exchange is not None else "",
            resource=_resource(exchange) if exchange is not None else "",
            principal=principal.id if principal else None,
            principal_kind=principal.kind.value if principal else None,
            credential_id=principal.credential_id if principal else None,
            decision=self.decision or Decision.deny("no decision was reached"),
            status=self.status,
            checks=(*self.checks.values(), *not_run),
            findings=tuple(self.findings),
            content_hashes=tuple(hashlib.sha256(s.text.encode()).hexdigest() for s in segments),
            content=tuple(s.text for s in segments) if record_content else None,
            model=self.model,
            upstream=self.upstream,
            stream=exchange.stream if exchange is not None else False,
            usage=self.usage,
            latency_ms=round(elapsed * 1000, 3),
            error=self.audited_error,
            delegation=tuple(f"{p.kind.value}:{p.id}" for p in principal.chain()) if principal
            else (),
            auth_method=principal.auth_method if principal else None,
            client_ip=self.client_ip or None,
            details={**(exchange.signals if exchange is not None else {}), **self.notes},
            label=self.label,
            response_label=self.response_label,
        )


def _as_audited(error: ZtaiError) -> str:
    """An error as the audit log keeps it, credentials masked: a message may quote the request
    (a path through its keys, and a key may be a credential: found 2026-11-28, a request
    nested too deep under ``metadata["key AKIA…"]`` put the key in the log in clear)."""
    text = masked_credentials(f"{error.code}: {error.message}")  # read whole, then cut
    return text if len(text) <= _MAX_AUDITED else text[:_MAX_AUDITED] + "…"


def _resource(exchange: Exchange) -> str:
    """The resource as the audit log keeps it: an MCP resource's id holds its address, which
    the client chose (``notes://AKIA…``), so credentials in it are masked, as in the address
    sent to the server; a model's id is the catalog's own."""
    resource = exchange.resource
    text = f"{resource.kind}::{resource.id}"
    return masked_credentials(text) if resource.kind is ResourceKind.TOOL else text


def masked_credentials(text: str) -> str:
    """``text`` as the audit log keeps a text the caller wrote outside the content (an error
    that quotes the request, a resource's address, a justification): what the built-in
    secrets rules find there in ``[kind]``."""
    masked, position = [], 0
    for found in sorted(_secrets().detect(text), key=lambda m: m.start):
        if found.start >= position:
            masked += [text[position:found.start], f"[{found.kind}]"]
            position = found.end
    return "".join([*masked, text[position:]])


_MAX_AUDITED = 2000


@cache
def _secrets() -> SecretDetector:
    """The built-in rules, whatever the gateway's DLP settings: no setting lets a credential
    into the log (built on the first error, ~0.1 s)."""
    return SecretDetector.build()

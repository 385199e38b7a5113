"""Helpers for the audit tests: events to record, and a store that counts or fails appends."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from ztai.core.audit import AuditEvent, CheckRecord, CheckStatus
from ztai.core.model import Decision, Effect, Finding, Obligation, Span
from ztai.storage.interface import AuditStore
from ztai.storage.model import ChainedEntry, Checkpoint


def make_event(n: int = 0, **changes: object) -> AuditEvent:
    """A fully populated event; ``n`` makes each one distinct."""
    fields: dict[str, object] = {
        "id": f"ex_{n:06d}",
        "time": 1_750_000_000.0 + n,
        "route": "/v1/chat/completions",
        "action": "invoke_model",
        "resource": "Model::gpt-4o-mini",
        "principal": "alice",
        "principal_kind": "user",
        "credential_id": "key_1",
        "decision": Decision(
            Effect.ALLOW, ("policy permits",), ("p1",),
            (Obligation("redact", {"kinds": "email"}),),
        ),
        "status": 200,
        "checks": (CheckRecord("authenticate", CheckStatus.PASSED, 0.25),
                   CheckRecord("classify", CheckStatus.NOT_RUN)),
        "findings": (Finding("email", 0, Span(3, 17), 0.99, "regex"),),
        "content_hashes": ("ab" * 32,),
        "usage": {"prompt_tokens": 12, "completion_tokens": 30},
        "latency_ms": 4.5,
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]  # test factory over keyword fields


class CountingStore:
    """Wraps a store: counts appends, can fail one (before or after it commits), and
    can hold appends until ``gate`` is set (``entered`` tells when one is waiting)."""

    def __init__(self, inner: AuditStore) -> None:
        self.inner = inner
        self.appends = 0
        self.fail_with: Exception | None = None
        self.fail_after_commit = False
        self.fail_on: int | None = None  # which append (1, 2, ...) fails; None: the next one
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def append(self, entries: Sequence[ChainedEntry], checkpoint: Checkpoint | None) -> None:
        self.entered.set()
        self.gate.wait(10)
        self.appends += 1
        error = None
        if self.fail_on in (None, self.appends):
            error, self.fail_with = self.fail_with, None
        if error is not None and not self.fail_after_commit:
            raise error
        self.inner.append(entries, checkpoint)
        if error is not None:
            raise error

    def head(self) -> ChainedEntry | None:
        return self.inner.head()

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[ChainedEntry]:
        return self.inner.read(after_seq, limit)

    def checkpoints(self) -> list[Checkpoint]:
        return self.inner.checkpoints()

"""The stage interface: how a control plugs into the one pipeline without touching any route.

A request stage looks at a ``Flow`` (the exchange, the verified principal, the signals gathered
so far) and returns a ``Decision`` or None. A deny ends the exchange; an allow records the
authorization; None means "no objection". Raising means "could not decide": the runner denies.
A response stage sees the text of what the upstream answered, chunk by chunk when streamed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ztai.core.model import Decision, Exchange, Finding, Principal
from ztai.core.secret import Secret


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What the transport says about a request, never its body. ``client_ip`` already accounts
    for trusted proxies; ``device_claim`` is the raw signed device assertion, unverified;
    ``client_cert`` holds what a trusted TLS terminator forwarded about the client certificate."""

    client_ip: str = ""
    device_claim: Secret | None = None
    client_cert: Mapping[str, str] = field(default_factory=dict)
    justification: str | None = None  # why the caller says it needs this (X-Ztai-Justification)
    session: str | None = None  # the caller's agent run (X-Ztai-Session), across routes


class Restorer(Protocol):
    """Puts back what a stage replaced in the request (pseudonyms) into the answer.
    ``max_token_chars`` bounds a replaced token, so a stream holds back no more than that."""

    @property
    def max_token_chars(self) -> int: ...

    def restore(self, text: str) -> str: ...


class AnswerWatch(Protocol):
    """A detector a stage adds for this exchange's answer alone (a system-prompt canary); its
    matches carry ``kind``, ``start``, ``end``, ``score`` and ``detector``."""

    name: str

    def detect(self, text: str) -> Sequence[Any]: ...


@dataclass(slots=True)
class Flow:
    """Working state of one exchange, owned by the pipeline runner and lent to stages.

    ``rewrites`` maps a segment's index to the text the upstream gets instead (redaction);
    ``restorer`` undoes pseudonyms in the answer; ``notes`` go into the audit event's details;
    ``watches`` are detectors for this exchange's answer only; ``appended`` messages go to the
    upstream after the caller's; ``extras`` join a whole answer.
    """

    exchange: Exchange
    principal: Principal
    context: dict[str, object] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    decision: Decision | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)
    rewrites: dict[int, str] = field(default_factory=dict)
    restorer: Restorer | None = None
    notes: dict[str, str | int | bool] = field(default_factory=dict)
    watches: list[AnswerWatch] = field(default_factory=list)
    # messages a stage adds to the upstream request (retrieved knowledge), after the caller's
    appended: list[dict[str, Any]] = field(default_factory=list)
    # fields added to a whole (not streamed) answer for the caller (citations)
    extras: dict[str, Any] = field(default_factory=dict)


class RequestStage(Protocol):
    """A check on the request. A stage whose ``run`` never awaits may declare
    ``suspends = False``: the pipeline then runs it to completion directly, without arming a
    timeout (none could interrupt it), and denies the request if it suspends after all."""

    name: str

    async def run(self, flow: Flow) -> Decision | None: ...


class ResponseStage(Protocol):
    name: str

    async def inspect(self, flow: Flow, text: str, final: bool) -> Decision | None:
        """``text`` is the newest response text (with a bounded overlap of the previous chunk
        when streamed); ``final`` is true on the last call for this exchange."""
        ...

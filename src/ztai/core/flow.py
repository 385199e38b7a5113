"""The stage interface: how a control plugs into the one pipeline without touching any route.

A request stage looks at a ``Flow`` (the exchange, the verified principal, the signals gathered
so far) and returns a ``Decision`` or None. A deny ends the exchange; an allow records the
authorization; None means "no objection". Raising means "could not decide": the runner denies.
A response stage sees the text of what the upstream answered, chunk by chunk when streamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ztai.core.model import Decision, Exchange, Finding, Principal


@dataclass(slots=True)
class Flow:
    """Working state of one exchange, owned by the pipeline runner and lent to stages."""

    exchange: Exchange
    principal: Principal
    context: dict[str, object] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    decision: Decision | None = None


class RequestStage(Protocol):
    name: str

    async def run(self, flow: Flow) -> Decision | None: ...


class ResponseStage(Protocol):
    name: str

    async def inspect(self, flow: Flow, text: str, final: bool) -> Decision | None:
        """``text`` is the newest response text (with a bounded overlap of the previous chunk
        when streamed); ``final`` is true on the last call for this exchange."""
        ...

"""What a route hands the pipeline: the exchange, and how to carry it out once allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ztai.core.flow import Flow
from ztai.core.model import Exchange
from ztai.gateway.catalog import ModelRoute
from ztai.upstream.interface import StreamEvent, UpstreamCall


class ReplyReader(Protocol):
    """Reads a protocol's replies: the text to inspect and the token usage to audit."""

    def texts(self, body: Mapping[str, Any]) -> list[str]: ...

    def event_text(self, event: StreamEvent) -> str: ...

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]: ...


LocalAnswer = Callable[[Flow], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Plan:
    exchange: Exchange
    reader: ReplyReader
    call: UpstreamCall | None = None
    target: ModelRoute | None = None
    local: LocalAnswer | None = None


def usage_counts(body: Mapping[str, Any]) -> dict[str, int]:
    """Integer fields of an OpenAI ``usage`` object (nested details are left out)."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return {}
    return {k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}


class TextlessReader:
    """For answers with no text to inspect (embeddings, model lists)."""

    def texts(self, body: Mapping[str, Any]) -> list[str]:
        return []

    def event_text(self, event: StreamEvent) -> str:
        return ""

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        return usage_counts(body)

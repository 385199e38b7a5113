"""The upstream interface. Implementations raise ``UpstreamError`` (from ``ztai.core.errors``)
with the HTTP status the gateway should return: 502 unreachable, garbage or a provider 5xx,
504 timeout, 429 rate limited, 400 when the provider rejected the request as invalid."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Endpoint(StrEnum):
    CHAT = "chat/completions"
    RESPONSES = "responses"
    EMBEDDINGS = "embeddings"


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """A request to forward. ``body`` already names the upstream's own model."""

    endpoint: Endpoint
    body: Mapping[str, Any]
    stream: bool = False


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One server-sent event. ``data`` is None for the ``[DONE]`` terminator."""

    data: dict[str, Any] | None
    event: str | None = None


class Upstream(Protocol):
    name: str

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        """Forward a non-streamed call and return the provider's JSON body."""
        ...

    def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        """Forward a streamed call. Errors before the first event raise ``UpstreamError``
        when the iterator is first advanced; a broken stream raises it mid-way."""
        ...

    async def aclose(self) -> None: ...

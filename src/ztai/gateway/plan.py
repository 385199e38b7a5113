"""What a route hands the pipeline: the exchange, and how to carry it out once allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ztai.core.flow import Flow
from ztai.core.model import Exchange
from ztai.gateway.catalog import ModelRoute
from ztai.upstream.interface import StreamEvent, UpstreamCall

# A piece of text in an answer, with the path to it in the body or event (``choices[0].delta
# .content``), so that it can be inspected and rewritten (redacted, pseudonyms restored).
Piece = tuple[str, str]


class ReplyReader(Protocol):
    """Reads a protocol's replies: the text to inspect and the token usage to audit.

    ``pieces`` are the texts of a whole answer; in a stream, ``delta_pieces`` are increments
    of the answer and ``whole_pieces`` complete copies some events carry (a final summary).
    ``extra_pieces`` are what the provider puts beside the model's text, in a whole answer or
    in one event (citations, search results, a debug note): read by data protection, not
    judged as the model's words (a citation's address is no exfiltration by the model)."""

    def pieces(self, body: Mapping[str, Any]) -> list[Piece]: ...

    def delta_pieces(self, data: Mapping[str, Any]) -> list[Piece]: ...

    def whole_pieces(self, data: Mapping[str, Any]) -> list[Piece]: ...

    def extra_pieces(self, data: Mapping[str, Any]) -> list[Piece]: ...

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]: ...


def with_extras(reader: ReplyReader, pieces: list[Piece], data: Mapping[str, Any]
                ) -> list[tuple[str, str, bool]]:
    """``pieces`` of the model's text, then ``reader.extra_pieces(data)``, each told whether
    it is the provider's (``AnswerGuard.detect(text, provider)``)."""
    return [*((path, text, False) for path, text in pieces),
            *((path, text, True) for path, text in reader.extra_pieces(data))]


def event_text(reader: ReplyReader, event: StreamEvent) -> str:
    return "".join(text for _, text in reader.delta_pieces(event.data or {}))


LocalAnswer = Callable[[Flow], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Plan:
    """``context`` adds what only the route knows to the policy context (a tool's declared
    risk, a session's taint). A ``local`` answer that ``applies_rewrites`` sends the protect
    stage's redactions itself; one that ``scan_answer`` has its answer scanned like a model's
    (DLP rules with direction "response", label)."""

    exchange: Exchange
    reader: ReplyReader
    call: UpstreamCall | None = None
    target: ModelRoute | None = None
    local: LocalAnswer | None = None
    context: Mapping[str, object] = field(default_factory=dict)
    applies_rewrites: bool = False
    scan_answer: bool = False
    # the upstream was asked for a stream's token usage that the client did not ask for (so
    # that agent budgets count every token): the relay reads it and keeps it from the client
    hidden_usage: bool = False
    # answers asked for at once (a chat's ``n``): a stream interleaves them, event by event
    choices: int = 1


def usage_counts(body: Mapping[str, Any]) -> dict[str, int]:
    """Integer fields of an OpenAI ``usage`` object (nested details are left out)."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return {}
    return {k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}


class TextlessReader:
    """For answers with no text to inspect (embeddings, model lists)."""

    def pieces(self, body: Mapping[str, Any]) -> list[Piece]:
        return []

    def delta_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []

    def whole_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []

    def extra_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        return usage_counts(body)

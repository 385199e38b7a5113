"""Server-sent events: decoded incrementally from bytes as the WHATWG spec reads them (CR, LF or
CRLF line ends, multi-line ``data:``, ``event:`` names, ``:`` comments, bounded event size), and
encoded back from ``StreamEvent``s."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ztai.core.errors import UpstreamError
from ztai.upstream.interface import StreamEvent


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str
    event: str | None = None


def encode_event(event: StreamEvent) -> bytes:
    """One event on the wire; ``data=None`` becomes ``data: [DONE]``."""
    if event.event is not None and ("\n" in event.event or "\r" in event.event):
        raise ValueError("an event name cannot contain a line break")
    head = f"event: {event.event}\n".encode() if event.event else b""
    data = b"[DONE]" if event.data is None else orjson.dumps(event.data)
    return head + b"data: " + data + b"\n\n"


def _malformed(why: str) -> UpstreamError:
    return UpstreamError(f"the upstream sent a malformed event stream: {why}",
                         status=502, code="upstream_bad_response")


class SseDecoder:
    """Feed bytes in any chunking; get back the events they complete. An event (or line) larger
    than ``max_event_bytes`` or one that is not UTF-8 raises ``UpstreamError(502)``."""

    __slots__ = ("_buffer", "_data", "_event", "_limit", "_size", "_started")

    def __init__(self, max_event_bytes: int) -> None:
        self._limit = max_event_bytes
        self._buffer = bytearray()
        self._data: list[str] = []
        self._event: str | None = None
        self._size = 0
        self._started = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        self._buffer += chunk
        if b"\n" not in chunk and b"\r" not in chunk:
            self._check_size(len(self._buffer))
            return []
        lines = bytes(self._buffer).splitlines(keepends=True)
        # Hold a partial line, or one ending in a lone CR that may be the first half of a CRLF.
        held = lines.pop() if not lines[-1].endswith(b"\n") else b""
        self._buffer = bytearray(held)
        self._check_size(len(held))
        return self._lines(lines)

    def finish(self) -> list[ServerSentEvent]:
        """The stream ended: complete a held CR-terminated line; drop an unterminated event."""
        held, self._buffer = bytes(self._buffer), bytearray()
        events = self._lines([held]) if held.endswith(b"\r") else []
        self._data, self._event, self._size = [], None, 0
        return events

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events = []
        for raw in lines:
            event = self._line(self._decode(raw.rstrip(b"\r\n")))
            if event is not None:
                events.append(event)
        return events

    def _decode(self, raw: bytes) -> str:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not UTF-8") from None
        if not self._started:
            self._started = True
            line = line.removeprefix("\ufeff")
        return line

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
            self._size += len(value) + 1
            self._check_size(0)
        elif field == "event":
            self._event = value
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event, self._size = [], None, 0
        return ServerSentEvent("\n".join(data), event or None) if data else None

    def _check_size(self, pending: int) -> None:
        if self._size + pending > self._limit:
            raise _malformed("an event is too large")

"""One response read off the wire with llhttp (``httptools``), within bounds: the head's size
and header count, the bytes spent on framing and trailers, and nothing accepted after the end."""

from __future__ import annotations

import httptools

from ztai.upstream.http1.errors import ProtocolError

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_TRAILER_BYTES = 64 * 1024
CHUNK_FRAMING_BYTES = 256
"""Allowed per chunk for its size line, extensions and line ends."""

Headers = list[tuple[bytes, bytes]]


class ResponseParser:
    """Feed one response's bytes as they arrive; after each ``feed`` look at ``head_done``
    (then ``status`` and ``headers``, names lower case), ``buffered`` body bytes to ``take``,
    and ``complete`` (then ``keep_alive``). ``feed`` raises ``ProtocolError`` for broken HTTP or
    a bound passed; bytes after the end set ``trailing`` and are otherwise ignored."""

    __slots__ = ("_allowance", "_body_bytes", "_chunks", "_error", "_fed", "_informational",
                 "_parser", "buffered", "complete", "head_done", "headers", "keep_alive",
                 "status", "trailing")

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: Headers = []
        self.head_done = self.complete = self.keep_alive = self.trailing = False
        self.buffered = 0
        self._chunks: list[bytes] = []
        self._body_bytes = self._fed = 0
        self._allowance = MAX_HEAD_BYTES + MAX_TRAILER_BYTES
        self._informational = False
        self._error: str | None = None

    def feed(self, data: bytes) -> None:
        if self.complete:
            self.trailing = True
            return
        room = MAX_HEAD_BYTES - self._fed
        if not self.head_done and len(data) > room:  # never hand llhttp more head than allowed
            self._feed(data[:room])
            if not self.head_done:
                self._refuse("the response head is too large")
            data = data[room:]
        self._feed(data)

    def take(self) -> bytes:
        """The body bytes fed since the last call."""
        chunks, self._chunks, self.buffered = self._chunks, [], 0
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def end_of_stream(self) -> None:
        """The server closed its side: that ends a body with neither length nor chunks."""
        names = {name for name, _ in self.headers}
        if self.head_done and not names & {b"content-length", b"transfer-encoding"}:
            self.complete = True

    def _feed(self, data: bytes) -> None:
        self._fed += len(data)
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if self._error is None and not self.complete:
                self._refuse(f"malformed HTTP: {exc}")
            self.trailing = self.complete
        if self._error is not None:
            self._refuse(self._error)
        if self._fed - self._body_bytes > self._allowance and not self.trailing:
            self._refuse("the response has too much framing or too many trailers")

    def _refuse(self, why: str) -> None:
        self.complete = False  # even a response llhttp finished in this feed is void
        raise ProtocolError(why)

    # --- llhttp's callbacks --------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.trailing = self.complete  # a second response to one request

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.head_done:
            return  # a trailer (or a second response's header): bounded by the allowance
        if len(self.headers) >= MAX_HEADERS:
            self._error = "the response has too many headers"
        else:
            self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if self.complete or self._error is not None:
            return
        if status == 101:
            self._error = "the upstream switched protocols"
        elif status < 200:  # 100 Continue, 103 Early Hints: the final response follows
            self._informational = True
            self.headers = []
        else:
            self.status, self.head_done = status, True

    def on_chunk_header(self) -> None:
        self._allowance += CHUNK_FRAMING_BYTES

    def on_body(self, body: bytes) -> None:
        if not self.complete and self._error is None:
            self._chunks.append(body)
            self.buffered += len(body)
            self._body_bytes += len(body)

    def on_message_complete(self) -> None:
        if self.complete or self._error is not None:
            return
        if self._informational:
            self._informational = False
        else:
            self.complete = True
            self.keep_alive = self._parser.should_keep_alive()

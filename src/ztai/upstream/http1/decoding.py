"""Content codings a server may apply although asked for ``identity``: gzip and deflate are
undone in bounded pieces (a small body cannot expand into unbounded memory at once); any other
coding is refused."""

from __future__ import annotations

import zlib

from ztai.upstream.http1.errors import ProtocolError

PIECE_BYTES = 256 * 1024
"""The most one ``decode`` call returns; the rest waits in the decoder."""
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class ContentDecoder:
    """Feed the body as it arrives: ``decode(chunk)``, then ``decode(b"")`` while ``pending``,
    and ``finish()`` at the end. ``ProtocolError`` when the body does not decode."""

    __slots__ = ("_fed", "_inflater")

    def __init__(self, coding: str) -> None:
        wbits = _WBITS.get(coding.strip().lower())
        if wbits is None:
            raise ProtocolError("the response has an unsupported content coding")
        self._inflater = zlib.decompressobj(wbits)
        self._fed = False

    @property
    def pending(self) -> bool:
        return bool(self._inflater.unconsumed_tail)

    def decode(self, chunk: bytes) -> bytes:
        data = self._inflater.unconsumed_tail + chunk if self.pending else chunk
        self._fed = self._fed or bool(data)
        try:
            return self._inflater.decompress(data, PIECE_BYTES)
        except zlib.error:
            raise ProtocolError("the response's content could not be decoded") from None

    def finish(self) -> bytes:
        """The body ended: an empty one is fine, a coded one must be complete."""
        if self._fed and not self._inflater.eof:
            raise ProtocolError("the response's content could not be decoded: it is cut short")
        return b""

"""Detectors over encoded text: a credential or personal data base64- or hex-encoded inside a
prompt, an answer, a tool's arguments or its result is found like one in clear. A model told to
"encode the key in base64 first" or an agent uploading a file as base64 passed every detector
before (they read only the clear text).

Runs of the base64 (standard or URL-safe) or hex alphabet are decoded — each of the four (two)
alignments is tried, so a run cut anywhere (a stream's window) still decodes — and where the
bytes are readable text (UTF-8 or mostly printable ASCII), the inner detectors read it. A
finding is reported on the encoded characters that carry it (three bytes per four base64
characters, one per two hex digits), so a redaction removes just those characters and a
stream's bounded window holds a span about as long as the clear finding's. Linear: each
character is in one run, each run is decoded at most four times, and the inner detectors are
linear."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from itertools import islice

import re2

from ztai.protection.interface import Detector
from ztai.protection.model import Match

NAME = "encoded"
MIN_RUN = 16  # an 11-character secret encodes to 16 base64 characters
MAX_RUNS = 256  # runs decoded per text: bounded work on text made of nothing else
_READABLE = 0.9  # share of printable characters that makes decoded bytes text
_B64 = re2.compile(rf"[A-Za-z0-9+/_-]{{{MIN_RUN},}}={{0,2}}")
_URLSAFE = str.maketrans("-_", "+/")
_HEX = frozenset("0123456789abcdefABCDEF")
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"
# each byte as "a" (the base64 alphabet), "=" (padding) or " " (anything else)
_CLASSES = bytes(
    ord("a") if chr(b) in "+/_-" or (chr(b).isascii() and chr(b).isalnum())
    else ord("=") if b == ord("=") else ord(" ") for b in range(256))
_LONG_RUN = b"a" * MIN_RUN
_PAD = ord("=")
_NOT_CONTROL = bytes(b for b in range(256) if b >= 32 and b != 127) + b"\t\n\r"


class EncodedContent:
    """The ``inner`` detectors over base64 and hex runs of a text, decoded."""

    name = NAME

    def __init__(self, inner: Sequence[Detector]) -> None:
        self._inner = tuple(inner)

    def detect(self, text: str) -> list[Match]:
        found: list[Match] = []
        if len(text) < MIN_RUN:
            return found
        for start, body in islice(_runs(text), MAX_RUNS):
            decoded = _hex(body) if _HEX.issuperset(body.rstrip("=")) else None
            # base64 of text mixes cases (each group's first character holds a byte's top
            # bits: "I" to "f" for printable ASCII); a run of one case is a word or a name
            if decoded is None and not (body.islower() or body.isupper()):
                decoded = _base64(body)
            if decoded is None:
                continue
            clear, skip, chars_per, bytes_per, offsets = decoded
            for detector in self._inner:
                for m in detector.detect(clear):
                    low, high = (m.start, m.end) if offsets is None else \
                        (offsets[m.start], offsets[m.end])
                    first = low // bytes_per * chars_per
                    last = -(-high // bytes_per) * chars_per
                    found.append(Match(m.kind, start + skip + first,
                                       start + skip + min(last, len(body) - skip), m.score,
                                       f"{m.detector or detector.name}+{NAME}"))
        return found


def _runs(text: str) -> Iterator[tuple[int, str]]:
    """Each run of the base64 alphabet of ``MIN_RUN`` characters or more (with up to two
    padding characters), at its offset. An ASCII text is searched as bytes mapped to the
    alphabet or not (C-speed, no regex call: most texts hold no run and cost about a
    microsecond); any other by RE2."""
    if not text.isascii():
        for match in _B64.finditer(text):
            yield match.start(), match.group()
        return
    mapped = text.encode("ascii").translate(_CLASSES)
    length, at = len(mapped), mapped.find(_LONG_RUN)
    while at >= 0:
        ends = [i for i in (mapped.find(b" ", at), mapped.find(b"=", at)) if i >= 0]
        end = min(ends, default=length)
        padded = end
        while padded < min(end + 2, length) and mapped[padded] == _PAD:
            padded += 1
        yield at, text[at:padded]
        at = mapped.find(_LONG_RUN, end)


# text, skipped characters, characters and bytes per group, each character's byte offset (None:
# one byte each)
Decoded = tuple[str, int, int, int, list[int] | None]


def _base64(body: str) -> Decoded | None:
    """Each alignment in turn; the run's last group may lack its padding (or have it)."""
    plain = body.rstrip("=").translate(_URLSAFE)
    for skip in range(4):
        usable = len(plain) - skip
        if usable % 4 == 1:  # a lone last character holds no whole byte
            usable -= 1
        if usable < MIN_RUN - 4:
            return None
        try:
            raw = base64.b64decode(plain[skip:skip + usable] + "=" * (-usable % 4),
                                   validate=True)
        except (binascii.Error, ValueError):
            continue
        text = _readable(raw)
        if text is not None:
            return text[0], skip, 4, 3, text[1]
    return None


def _hex(body: str) -> Decoded | None:
    for skip in range(2):
        usable = (len(body) - skip) // 2 * 2
        raw = bytes.fromhex(body[skip:skip + usable])
        text = _readable(raw)
        if text is not None:
            return text[0], skip, 2, 1, text[1]
    return None


def _readable(raw: bytes) -> tuple[str, list[int] | None] | None:
    """The text ``raw`` holds and each character's byte offset (None: one byte each), or None
    where it is not text: printable ASCII with at most a tenth of other bytes (read one
    character per byte, so a run cut inside a character still reads), else UTF-8 with at most
    a tenth of control bytes."""
    if not raw:
        return None
    if len(raw.translate(None, _PRINTABLE)) <= (1 - _READABLE) * len(raw):
        return raw.decode("latin-1"), None
    if len(raw.translate(None, _NOT_CONTROL)) > (1 - _READABLE) * len(raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(char.encode("utf-8")))
    return text, offsets

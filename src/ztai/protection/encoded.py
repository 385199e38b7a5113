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
import bisect
import operator
from collections.abc import Iterator, Sequence
from itertools import islice

from ztai.protection.interface import Detector
from ztai.protection.model import Match

NAME = "encoded"
MIN_RUN = 16  # an 11-character secret encodes to 16 base64 characters
MAX_RUNS = 256  # runs decoded per text: bounded work on text made of nothing else
_READABLE = 0.9  # share of printable characters that makes decoded bytes text
_URLSAFE = str.maketrans("-_", "+/")
_HEX = frozenset("0123456789abcdefABCDEF")
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"
# each byte as "a" (the base64 alphabet), "=" (padding) or " " (anything else)
_CLASSES = bytes(
    ord("a") if chr(b) in "+/_-" or (chr(b).isascii() and chr(b).isalnum())
    else ord("=") if b == ord("=") else ord(" ") for b in range(256))
_LONG_RUN = b"a" * MIN_RUN
_PAD = ord("=")
_ALPHABET = ord("a")
_EOL = ("\r", "\n")
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
        for start, body, lines in islice(_runs(text), MAX_RUNS):
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
                    first = skip + low // bytes_per * chars_per
                    last = skip + min(-(-high // bytes_per) * chars_per, len(body) - skip)
                    found.append(Match(m.kind, _at(start, lines, first),
                                       _at(start, lines, last - 1) + 1, m.score,
                                       f"{m.detector or detector.name}+{NAME}"))
        return found


# where each line of a wrapped run begins: (offset in the joined run, offset in the text)
Lines = list[tuple[int, int]]
_JOINED = operator.itemgetter(0)


def _at(start: int, lines: Lines | None, offset: int) -> int:
    """The text's offset of a run's character."""
    if lines is None:
        return start + offset
    joined, original = lines[bisect.bisect_right(lines, offset, key=_JOINED) - 1]
    return original + offset - joined


def _runs(text: str) -> Iterator[tuple[int, str, Lines | None]]:
    """Each run of the base64 alphabet of ``MIN_RUN`` characters or more (with up to two
    padding characters), at its offset, searched as bytes mapped to the alphabet or not
    (C-speed, no regex call: most texts hold no run and cost about a microsecond). A run
    wrapped into lines (MIME and ``base64`` wrap at 76 characters, PEM and OpenSSL at 64) is
    one run, joined, with where its lines begin: read line by line, a key across a line break
    was missed."""
    # one byte per character: every other character maps to "?", which is no base64
    mapped = text.encode("ascii", "replace").translate(_CLASSES)
    length, at = len(mapped), mapped.find(_LONG_RUN)
    while at >= 0:
        end, padded = _run_end(mapped, at, length)
        width = end - at
        if padded == end and width % 4 == 0 and (at == 0 or text[at - 1] in _EOL):
            lines, body = _wrapped(text, mapped, at, width, length)
            if lines is not None:
                yield at, body, lines
                at = mapped.find(_LONG_RUN, lines[-1][1] + len(body) - lines[-1][0])
                continue
        yield at, text[at:padded], None
        at = mapped.find(_LONG_RUN, end)


def _run_end(mapped: bytes, at: int, length: int) -> tuple[int, int]:
    """Where the run at ``at`` ends, without and with its padding."""
    ends = [i for i in (mapped.find(b" ", at), mapped.find(b"=", at)) if i >= 0]
    end = min(ends, default=length)
    padded = end
    while padded < min(end + 2, length) and mapped[padded] == _PAD:
        padded += 1
    return end, padded


def _wrapped(text: str, mapped: bytes, at: int, width: int,
             length: int) -> tuple[Lines | None, str]:
    """The lines of a run wrapped at ``width`` from ``at`` (each line whole, every one but the
    last exactly ``width`` long and unpadded, the last at most that long), joined; None where
    the run at ``at`` is not followed by another line of it."""
    lines: Lines = [(0, at)]
    parts = [text[at:at + width]]
    joined, line_end = width, at + width
    while True:
        next_line = line_end + (2 if text.startswith("\r\n", line_end) else
                                1 if text.startswith("\n", line_end) else 0)
        if next_line == line_end or next_line >= length or mapped[next_line] != _ALPHABET:
            break
        end, padded = _run_end(mapped, next_line, length)
        if end - next_line > width:
            break
        lines.append((joined, next_line))
        parts.append(text[next_line:padded])
        joined, line_end = joined + padded - next_line, padded
        if end - next_line < width or padded > end or text[padded:padded + 1] not in _EOL:
            break  # the last line
    return (lines if len(lines) > 1 else None), "".join(parts)


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

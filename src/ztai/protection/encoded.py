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
linear.

Since 2026-11-28 also: escapes (percent-encoding, ``\\x41``, ``\\u0041``, ``&#65;``) decoded in
the words that hold them; text spelled out ("A K I A Z 3 …") and lists of byte values
("65, 75, 73", "0x41 0x4b") read joined; and what a decoding yields decoded again, up to
``MAX_DEPTH`` levels. Each view maps a finding back to the characters that wrote it
(``_View``); the views of a text are bounded like its runs (``MAX_RUNS``)."""

from __future__ import annotations

import base64
import binascii
import bisect
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import chain, groupby, islice

import re2

from ztai.core.words import may_spell
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
    """The ``inner`` detectors over base64 and hex runs of a text, decoded, over the words of a
    text that hold escapes (percent-encoding, ``\\xHH``, ``\\uHHHH``, numeric character
    references), decoded, and over text spelled out and byte lists, joined; what a decoding
    yields is decoded again, ``MAX_DEPTH`` levels in all (base64 of base64, hex of base64, a
    percent-encoded base64 run)."""

    name = NAME

    def __init__(self, inner: Sequence[Detector]) -> None:
        self._inner = tuple(inner)

    def detect(self, text: str) -> list[Match]:
        return self._detect(text, 1)

    def _detect(self, text: str, depth: int) -> list[Match]:
        found: list[Match] = []
        if len(text) < MIN_ESCAPED:
            return found
        views: list[Iterator[_View]] = []
        if ("%" in text or "\\" in text or "&#" in text) and _ESCAPE_HINT.search(text):
            views.append(_unescaped(text, *stretch) for stretch in _escaped_stretches(text))
        if len(text) >= 2 * MIN_TOKENS - 1:
            views += _spelled_and_byte_lists(text)
        for view in islice(chain.from_iterable(views), MAX_RUNS):
            for m in self._read(view.clear, depth):
                span = view.span(m.start, m.end)  # None: read in the clear
                if span is not None:
                    found.append(replace(m, start=span[0], end=span[1]))
        if len(text) < MIN_RUN:
            return found
        for start, body, lines in islice(_runs(text), MAX_RUNS):
            digits = body.rstrip("=")  # (hex has no padding: "…0123=" is a hex run, then "=")
            decoded = _hex(digits) if _HEX.issuperset(digits) else None
            # base64 of text mixes cases (each group's first character holds a byte's top
            # bits: "I" to "f" for printable ASCII); a run of one case is a word or a name
            if decoded is None and not (body.islower() or body.isupper()):
                decoded = _base64(body)
            if decoded is None:
                continue
            clear, skip, chars_per, bytes_per, offsets = decoded
            for m in self._read(clear, depth):
                low, high = (m.start, m.end) if offsets is None else \
                    (offsets[m.start], offsets[m.end])
                first = skip + low // bytes_per * chars_per
                last = skip + min(-(-high // bytes_per) * chars_per, len(body) - skip)
                found.append(replace(m, start=_at(start, lines, first),
                                     end=_at(start, lines, last - 1) + 1))
        return found

    def _read(self, clear: str, depth: int) -> Iterator[Match]:
        """What the inner detectors find in decoded text, and what they find in it decoded
        again while levels remain, marked as found in encoded text."""
        for detector in self._inner:
            for m in detector.detect(clear):
                yield replace(m, detector=f"{m.detector or detector.name}+{NAME}")
        if depth < MAX_DEPTH:
            for m in self._detect(clear, depth + 1):
                yield replace(m, detector=f"{m.detector}+{NAME}")


# An escape: percent-encoding (%41), a byte or a code unit as C, Python, JavaScript or JSON
# write it (\\x41, \\u0041), a numeric character reference (&#65; &#x41;). One search says
# whether a text holds any; most texts hold none and cost that search.
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})|\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})"
                     r"|&#(?:([0-9]{1,7})|[xX]([0-9A-Fa-f]{1,6}));")
_ESCAPE_HINT = re.compile(r"%[0-9A-Fa-f]{2}|\\[xu][0-9A-Fa-f]{2}|&#[xX0-9]")
_SPACE = re.compile(r"\s")
MAX_DEPTH = 3  # decodings in a row (hex of base64 of a percent-encoded key: three)
MIN_ESCAPED = 8  # the shortest finding a detector makes, written with escapes, is longer
MAX_ESCAPES = 65_536  # escapes decoded per text
CONTEXT = 64  # characters read before an escaped stretch (a rule's keyword: "api_key = ")
MERGE = 1024  # a word with an escape this near a stretch's end extends it


Escape = tuple[int, int, int, bool]  # start, end, value, whether the value is a byte


def _escaped_stretches(text: str) -> Iterator[tuple[int, int, list[Escape]]]:
    """Each stretch to read decoded: from ``CONTEXT`` characters before a word holding an
    escape to that word's end, with its escapes; a word with an escape within ``MERGE``
    characters of a stretch's end extends it (a stretch costs the inner detectors' calls:
    links with an escaped space every line are one stretch, not one each). Linear: each
    search starts where the last stretch ended."""
    stretch: tuple[int, int, list[Escape]] | None = None
    for count, found in enumerate(_ESCAPE.finditer(text)):
        if count >= MAX_ESCAPES:
            break
        start, end = found.span()
        percent, byte, unit, decimal, hexadecimal = found.groups()
        escape: Escape = \
            (start, end, int(percent or byte, 16), True) if percent or byte else \
            (start, end, int(unit or hexadecimal, 16) if unit or hexadecimal else int(decimal),
             False)
        if stretch is not None and start <= stretch[1] + MERGE:  # near: one stretch
            if start > stretch[1]:
                space = _SPACE.search(text, end)
                stretch = (stretch[0], space.start() if space else len(text), stretch[2])
            stretch[2].append(escape)
            continue
        if stretch is not None:
            yield stretch
        low = stretch[1] if stretch is not None else 0
        word = max(text.rfind(c, low, start) for c in " \n\t\r") + 1
        space = _SPACE.search(text, end)
        stretch = (max(word - CONTEXT, low), space.start() if space else len(text), [escape])
    if stretch is not None:
        yield stretch


class _View:
    """Text decoded from a stretch of the original (``clear``, once ``done``), and the way
    back: pieces of ``clear`` copied as they were, and characters that a decoding wrote, each
    from a span of the original."""

    __slots__ = ("_at", "_from", "_out", "_written", "clear", "length")

    def __init__(self) -> None:
        self._out: list[str] = []
        self._at: list[int] = []  # where each piece begins in clear
        # where it came from: a copied piece (its start, -1), a written character (the span
        # of what wrote it)
        self._from: list[tuple[int, int]] = []
        self._written: list[int] = []  # where each written character is in clear
        self.length = 0
        self.clear = ""

    @classmethod
    def of_written(cls, chars: str, spans: Sequence[tuple[int, int]]) -> _View:
        """A view of ``chars`` only, character ``i`` written by ``spans[i]``."""
        view = cls()
        view._out = [chars]
        view._at = view._written = list(range(len(chars)))
        view._from = list(spans)
        view.length = len(chars)
        return view.done()

    def copied(self, text: str, start: int, end: int) -> None:
        if end > start:
            self._piece(text[start:end], (start, -1))

    def written(self, char: str, start: int, end: int) -> None:
        self._written.append(self.length)
        self._piece(char, (start, end))

    def _piece(self, value: str, origin: tuple[int, int]) -> None:
        self._at.append(self.length)
        self._from.append(origin)
        self._out.append(value)
        self.length += len(value)

    def done(self) -> _View:
        self.clear = "".join(self._out)
        return self

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where ``clear[start:end]`` was in the text; None where it is empty or nothing of it
        was written by a decoding (then it was read in the clear)."""
        if end <= start or bisect.bisect_left(self._written, end) == \
                bisect.bisect_left(self._written, start):
            return None
        return self._origin(start)[0], self._origin(end - 1)[1]

    def _origin(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._at, offset) - 1
        first, last = self._from[index]
        if last < 0:  # copied: one to one
            at = first + offset - self._at[index]
            return at, at + 1
        return first, last


def _unescaped(text: str, start: int, end: int, escapes: list[Escape]) -> _View:
    """``text[start:end]`` with its ``escapes`` decoded. Byte escapes in a row (``%E2%82%AC``)
    are read as UTF-8 where they are, else a character per byte; a code point that is no
    character (a surrogate, beyond U+10FFFF) is U+FFFD."""
    view = _View()
    position = start
    pending: list[Escape] = []

    def flush() -> None:
        _write_bytes(view, bytes(e[2] for e in pending), [(e[0], e[1]) for e in pending])
        pending.clear()

    for escape in escapes:
        first, last, value, byte = escape
        if pending and first != pending[-1][1]:
            flush()
        view.copied(text, position, first)
        position = last
        if byte and value >= 0x80:  # part of a character in UTF-8, perhaps
            pending.append(escape)
            continue
        if pending:
            flush()
        view.written(chr(value) if value < 0x110000 and not 0xD800 <= value < 0xE000
                     else "\ufffd", first, last)
    if pending:
        flush()
    view.copied(text, position, end)
    return view.done()


def _write_bytes(view: _View, raw: bytes, spans: Sequence[tuple[int, int]]) -> None:
    """``raw``, byte ``i`` written by ``spans[i]``, into ``view``."""
    decoded, spans = _characters(raw, spans)
    for char, (start, end) in zip(decoded, spans, strict=True):
        view.written(char, start, end)


def _characters(raw: bytes, spans: Sequence[tuple[int, int]]
                ) -> tuple[str, Sequence[tuple[int, int]]]:
    """``raw``, byte ``i`` written by ``spans[i]``, as UTF-8 where it is (a character spans
    what wrote its bytes), else a character per byte; and each character's span."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1"), spans
    if len(decoded) == len(raw):
        return decoded, spans
    joined: list[tuple[int, int]] = []
    at = 0
    for char in decoded:
        width = len(char.encode("utf-8"))
        joined.append((spans[at][0], spans[at + width - 1][1]))
        at += width
    return decoded, joined


# Text spelled out: single characters apart ("A K I A Z 3 …", "4-1-1-1-…"), as a model asked
# to "put a space between the characters" writes a key. Each run of MIN_TOKENS or more single
# printable ASCII characters with one kind of separator between them (one to three spaces, or
# one of - . , | _), from a word's start to its end.
MIN_TOKENS = 12


def _spelled_pattern() -> re2._Regexp:
    alternatives = [f"(?:[!-~] {{1,3}}){{{MIN_TOKENS - 1},}}[!-~]"]
    for separator in "-.,|_":
        token = "[" + "".join(re.escape(c) for c in map(chr, range(0x21, 0x7F))
                              if c != separator) + "]"
        alternatives.append(f"(?:{token}{re.escape(separator)}){{{MIN_TOKENS - 1},}}{token}")
    return re2.compile(f"(?:^|\\s)((?:{')|(?:'.join(alternatives)}))(?:$|[\\s.,;:!?)\\]}}\"'])")


_SPELLED = _spelled_pattern()


def _spelled_and_byte_lists(text: str) -> list[Iterator[_View]]:
    """The readers of text spelled out and of byte lists that ``text`` may hold something for,
    told by a byte translation and a bounded search (``ztai.core.words.may_spell``) and by a
    count of digits (C speed, and the interpreter kept: an RE2 call on every text lets the
    audit writer thread take it, which cost ~14 % of the gateway's throughput when the
    encoded-data detector first made one per text)."""
    data = text.encode("ascii", "replace")  # one byte per character: offsets are the same
    readers = []
    if may_spell(data):  # (a run: 12 characters or more; the test passes more texts)
        readers.append(_spelled(text, data))
    if len(data) - len(data.translate(None, b"0123456789")) >= MIN_TOKENS:
        readers.append(_byte_lists(text, data))  # every byte value holds a digit
    return readers


def _spelled(text: str, data: bytes) -> Iterator[_View]:
    """Each run of characters spelled out, its characters joined (each written by itself)."""
    for found in _SPELLED.finditer(data):
        start, end = found.span(1)
        separator = " " if text[start + 1] == " " else text[start + 1]
        at = [index for index in range(start, end) if text[index] != separator]
        # a character beyond ASCII was searched as "?": it ends a run ("… D E f g —")
        for ascii_, group in groupby(at, key=lambda i: text[i].isascii()):
            tokens = list(group)
            if ascii_ and len(tokens) >= MIN_TOKENS:
                yield _View.of_written("".join([text[i] for i in tokens]),
                                       [(i, i + 1) for i in tokens])


# Bytes written as numbers: hex pairs ("41 4b 49", "0x41, 0x4b", "41:4b:49") or decimals from 0
# to 255 ("65, 75, 73"), MIN_TOKENS or more, apart by commas, semicolons, spaces or colons.
_BYTE_LIST = re2.compile(
    r"(?:^|[\s\[({=:\"'])((?:(?:0[xX])?[0-9A-Fa-f]{1,3}(?:, ?|; ?| |:)){"
    + str(MIN_TOKENS - 1) + r",}(?:0[xX])?[0-9A-Fa-f]{1,3})(?:$|[\s\])},;.\"'])")
_NUMBER = re.compile(r"(?:0[xX])?([0-9A-Fa-f]+)")


def _byte_lists(text: str, data: bytes) -> Iterator[_View]:
    """Each list of numbers that reads as text once taken as bytes: as hex pairs (where each
    number is two hex digits), as decimals (where each is one from 0 to 255)."""
    for found in _BYTE_LIST.finditer(data):
        start, end = found.span(1)
        numbers = list(_NUMBER.finditer(text, start, end))
        spans = [n.span() for n in numbers]
        digits = [n.group(1) for n in numbers]
        candidates = []
        if all(len(d) == 2 for d in digits):
            candidates.append(bytes.fromhex("".join(digits)))
        if all(d.isdecimal() and int(d) < 256 for d in digits) and \
                not any(n.group().lower().startswith("0x") for n in numbers):
            candidates.append(bytes(int(d) for d in digits))
        for raw in candidates:  # both, where both read ("65 75 73" is either)
            if _readable(raw) is not None:
                yield _View.of_written(*_characters(raw, spans))


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

"""De-obfuscation before detection: the text as a detector should read it (NFKC, look-alike
letters folded, invisible characters dropped, Unicode tag characters decoded), a skeleton view
(accents and leetspeak folded), a separated view (words joined by symbols set apart) and bounded
decodings of embedded base64, hex, URL-encoded, rot13, variation-selector and bidi-reversed
blobs, of text written backwards or upside down, of a Caesar shift or Atbash a text mentions,
and of words split by empty markup. Every view maps back to spans of the original text, and
every hiding trick found on the way is itself a finding.

One module on purpose: the views share one offset model and one work budget; the data tables are
at the top, the normaliser, the skeleton, the blob decoders and the public entry points follow.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import html
import itertools
import re
import string
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain, compress, repeat
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

import re2

from ztai.core.words import common_words, may_spell
from ztai.threats.model import ThreatKind, ThreatMatch

DETECTOR = "threats.normalize"

# --- data tables -------------------------------------------------------------------------------

_ZERO_WIDTH = frozenset(
    [
        *(0x00AD, 0x034F, 0x115F, 0x1160, 0x180E, 0x200B, 0x200C, 0x200D, 0x3164, 0xFEFF, 0xFFA0),
        *range(0x2060, 0x2065),
        *range(0x206A, 0x2070),
        *range(0x1D173, 0x1D17B),
    ]
)
_BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_BIDI_OVERRIDES = frozenset([0x202D, 0x202E])
_BIDI_MARKS = frozenset([0x200E, 0x200F, 0x061C])  # plain direction marks of RTL text
_VARIATION = frozenset([*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_BLACK_FLAG = "\U0001f3f4"  # emoji subdivision flags are a black flag followed by tag letters

# Cyrillic, Greek and Armenian letters that look like Latin ones: folded inside words that mix
# them with Latin letters, or words made only of them (a real Russian or Greek word holds other
# letters too, so it stays as it is).
_LOOKALIKES = MappingProxyType(
    str.maketrans(
        "АВЕЅІЈКМНОРСТХУаеіјорсухѕԁԛԝһӏѵΑΒΕΖΗΙΚΜΝΟΡΤΥΧαικνορτυχօսհոցաւ",
        "ABESIJKMHOPCTXYaeijopcyxsdqwhlvABEZHIKMNOPTYXaikvoptuxouhnqwl",
    )
)
# Latin letters from other blocks (small capitals, IPA, dotless i) that NFKC leaves alone.
_LATIN_FOLDS = MappingProxyType(
    str.maketrans(
        "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢıȷɑɡɩʋ",
        "abcdefghijklmnopqrstuvwyzijagiv",
    )
)
_LEET = MappingProxyType(str.maketrans("0134578$|9", "oieastbslg"))
_ROT13_GATE = (
    "(?i)\\b(?:gur|naq|lbh|lbhe|nyy|vtaber|cerivbhf|vafgehpgvbaf|cebzcg|flfgrz|guvf|gung"
    "|jvgu|ner|jung|fnl|jvyy|sbe|sebz|unir|lbhe|cevag|eryrnfr|frperg|cnffjbeq|gryy)\\b"
)
_LETTERS = string.ascii_lowercase
# every Caesar shift and Atbash, upper and lower case (rot13 is found without a mention)
_CIPHERS = tuple(
    str.maketrans(_LETTERS + _LETTERS.upper(), table + table.upper())
    for table in (*(_LETTERS[k:] + _LETTERS[:k] for k in range(1, 26)), _LETTERS[::-1]))
_CIPHER_WORDS = ("caesar", "cipher", "atbash", "shift", "decrypt", "rot")
_CIPHER_CHARS = 4096
# markup that shows nothing: an element opened and closed at once, a self-closing one, a
# comment; between two letters it splits a word only for a reader of the source
_EMPTY_MARKUP_SOURCE = (
    "<[A-Za-z][A-Za-z0-9]{0,9}(?:\\s[^<>\\n]{0,64})?></[A-Za-z][A-Za-z0-9]{0,9}>"
    "|<[A-Za-z][A-Za-z0-9]{0,9}(?:\\s[^<>\\n]{0,64})?/>|<!--[^<>\\n]{0,64}-->")
_TAG_IN_WORD = f"\\pL(?:{_EMPTY_MARKUP_SOURCE})+\\pL"
_EMPTY_MARKUP = re.compile(_EMPTY_MARKUP_SOURCE)
_BREAKS = re.compile(r"<(?:br|hr|img|input|p|div|li|tr|td|th)\b", re.IGNORECASE)
_MAX_TAG_SPLITS = 10_000
# text turned upside down ("flip text" sites): each letter's upside-down look-alike, read
# backwards; the letters that have none keep their place (l, o, s, x, z)
_FLIPPED = "ɐqɔpǝɟƃɥᴉɾʞlɯuodbɹsʇnʌʍxʎz"
_RIGHT_WAY_UP = str.maketrans({**dict(zip(_FLIPPED, string.ascii_lowercase, strict=True)),
                               "ı": "i", "¡": "!", "¿": "?", "˙": ".", "'": ",", ",": "'"})
_UPSIDE_DOWN_ONLY = frozenset("ɐɔǝɟƃɥᴉɾʞɯɹʇʌʍʎ")
# common words written backwards ("the" -> "eht"), for spotting reversed text cheaply
_REVERSED_GATE = (
    "(?i)\\b(?:eht|dna|uoy|ruoy|lla|erongi|suoiverp|snoitcurtsni|tpmorp|metsys|siht|taht"
    "|htiw|tahw|yas|lliw|morf|evah|tnirp|laever|terces|drowssap|llet|woleb)\\b"
)
_COMMON_WORDS = (  # English words rot13 or reversal turn into nonsense, to spot such text
    "the to of and in that have it for not on with he as you do at this but his by from they we "
    "say her she or an will my one all would there their what so up out if about who get which "
    "go me when make can like time no just him know take people into year your good some could "
    "them see other than then now look only come its over think also back after use two how our "
    "work first well way even new want because any these give day most us is are was were been "
    "has had should must tell write print ignore previous instructions prompt system rules "
    "reveal secret password following above below please answer respond "
    "complete sentence display show configuration administrator admin override instructed "
    "developer mode access message text code send link user data act"
)
_ENGLISH = frozenset(_COMMON_WORDS.split())
_SENTENCE = "[^.!?;:\\n]+"


class ViewKind(StrEnum):
    NORMALIZED = "normalized"
    SKELETON = "skeleton"  # accents and leetspeak folded: for matching, not for reading
    SEPARATED = "separated"  # words joined by symbols ("ignore_all_previous") set apart
    BASE64 = "base64"
    HEX = "hex"
    URL = "url"
    ROT13 = "rot13"
    VARIATION_SELECTORS = "variation_selectors"
    REVERSED = "reversed"  # the visual order of a right-to-left override, or text backwards
    CIPHER = "cipher"  # a Caesar shift or Atbash, where the text says so
    UNTAGGED = "untagged"  # markup tags inside words removed ("Ig<b></b>nore")
    UPSIDE_DOWN = "upside_down"  # "ʇdɯoɹd" turned the right way up
    SPELLED = "spelled"  # "I g n o r e   a l l", "I.g.n.o.r.e a.l.l" read as words
    ESCAPED = "escaped"  # character references and \u / \x escapes decoded
    REGIONAL = "regional"  # regional indicator symbols (🇮🇬🇳…) read as the letters they show
    PIG_LATIN = "pig_latin"  # "ignoreway allway eviouspray" read back


_PAYLOAD_SCORES = MappingProxyType(
    {
        ViewKind.BASE64: 0.5,
        ViewKind.HEX: 0.5,
        ViewKind.URL: 0.3,
        ViewKind.ROT13: 0.6,
        ViewKind.VARIATION_SELECTORS: 0.9,
        ViewKind.REVERSED: 0.6,
        ViewKind.CIPHER: 0.6,
        ViewKind.UNTAGGED: 0.3,
        ViewKind.UPSIDE_DOWN: 0.6,
        ViewKind.SPELLED: 0.3,
        ViewKind.ESCAPED: 0.3,
        ViewKind.REGIONAL: 0.3,
        ViewKind.PIG_LATIN: 0.3,
    }
)


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds on the work spent decoding blobs in one text (all depths together). Blobs shorter
    than ``min_blob_chars`` are not decoded; at most ``max_blobs`` are accepted and
    ``max_decoded_bytes`` decoded; ``max_candidates`` and ``max_candidate_chars`` bound the tries,
    accepted or not; a blob inside a decoded blob is decoded down to ``max_depth``."""

    min_blob_chars: int = 16
    max_blobs: int = 16
    max_decoded_bytes: int = 64 * 1024
    max_candidates: int = 256
    max_candidate_chars: int = 256 * 1024
    max_depth: int = 2


@dataclass(frozen=True, slots=True)
class View:
    """A text to scan. ``span`` maps a span of ``text`` to the span of the original text it came
    from: exactly, character by character, for the normalised and skeleton views; to ``origin``,
    the whole blob, for decoded views (``starts`` is None)."""

    kind: ViewKind
    text: str
    origin: tuple[int, int]
    starts: Sequence[int] | None = field(default=None, repr=False)
    ends: Sequence[int] | None = field(default=None, repr=False)
    depth: int = 0

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return self.origin
        if end <= start:
            return self.starts[start], self.starts[start]
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True, slots=True)
class Deobfuscated:
    """``views`` holds every text a detector should scan, the normalised view first.
    ``complete`` is False when a limit stopped decoding: some blobs were not decoded (a caller
    may treat that itself as suspicious). ``findings`` are spans of the original text."""

    views: tuple[View, ...]
    findings: tuple[ThreatMatch, ...]
    complete: bool

    @property
    def normalized(self) -> View:
        return self.views[0]

    @property
    def text(self) -> str:
        return self.views[0].text


class Deobfuscator:
    """Builds the views and findings of a text. Build once (it compiles its patterns) and reuse;
    ``deobfuscate`` never raises for any string, is linear in the length of the text, and its
    decoding work is bounded by the limits. Spans are exact, except in hostile text: past 64 Ki
    characters that need character-by-character work, they widen to 256-character chunks."""

    __slots__ = ("_limits", "_patterns")

    def __init__(self, limits: DecodeLimits | None = None) -> None:
        self._limits = limits or DecodeLimits()
        self._patterns = _Patterns.compile(self._limits.min_blob_chars)

    def deobfuscate(self, text: str) -> Deobfuscated:
        normalized = _normalize(text, self._patterns)
        view = normalized.view(ViewKind.NORMALIZED)
        decoder = _Decoder(self._patterns, _Budget(self._limits), [view], normalized.findings)
        skeleton = _skeleton(view, self._patterns)
        if skeleton is not None:
            decoder.views.append(skeleton)
        separated = _separated(view)
        if separated is not None:
            decoder.views.append(separated)
        decoder.hidden(text, normalized)
        decoder.scan(view)
        findings = tuple(dict.fromkeys(decoder.findings))  # a blob in a blob: one finding
        return Deobfuscated(tuple(decoder.views), findings, decoder.budget.complete)


def deobfuscate(text: str, limits: DecodeLimits | None = None) -> Deobfuscated:
    """``Deobfuscator(limits).deobfuscate(text)``; build a ``Deobfuscator`` to scan many texts."""
    return Deobfuscator(limits).deobfuscate(text)


# --- compiled patterns -------------------------------------------------------------------------
# Structural scans run over a class string (one ASCII letter per character of the text, see
# _classify) rather than the text: RE2 on ASCII is cheap per match, and the "region" patterns
# merge nearby hits so that hostile input (a zero-width space after every letter) costs a few
# matches and one tight loop, not a match per character.

_ACCENTED = "\\x{C0}-\\x{24F}\\x{1E00}-\\x{1EFF}\\p{M}"
_URL_CHAR = "[A-Za-z0-9._~!*'()+,;=:@/?&#$%-]"
_LEET_CHARS = "[A-Za-z0-9$|!]"
_LEET_WORD = f"{_LEET_CHARS}*(?:[A-Za-z][0-9$|!]|[0-9$|!][A-Za-z]){_LEET_CHARS}*"
_SHORT_NUMBER = "\\b[0-9]{1,3}\\b"


@dataclass(frozen=True, slots=True)
class _Patterns:
    work: Any
    hidden: Any
    selectors: Any
    lookalike_word: Any
    skeleton_gate: Any
    leet_region: Any
    short_numbers: Any
    base64: Any
    hex: Any
    url: Any
    encoded_words: Any
    rot13_hint: Any
    cipher_hint: Any
    tag_in_word: Any
    sentence: Any
    spelled: Any
    min_blob: int

    @classmethod
    def compile(cls, min_blob: int) -> _Patterns:
        hidden = f"[{_HIDDEN}]"
        return cls(
            work=re2.compile(f"[^{_PLAIN}]+(?:[{_PLAIN}]{{1,16}}[^{_PLAIN}]+)*"),
            hidden=re2.compile(f"{hidden}+(?:[^{_HIDDEN}]{{1,8}}{hidden}+)*"),
            selectors=re2.compile("v{4,}"),
            lookalike_word=re2.compile("[alo]*l[alo]*"),
            skeleton_gate=re2.compile(f"[{_ACCENTED}]|[A-Za-z][0-9$|!][A-Za-z0-9]|[0-9$|][A-Za-z]"),
            leet_region=re2.compile(f"{_LEET_WORD}(?:[^A-Za-z0-9$|!]{{1,3}}{_LEET_WORD})*"),
            short_numbers=re2.compile(f"{_SHORT_NUMBER}(?:[^A-Za-z0-9]{{1,3}}{_SHORT_NUMBER})*"),
            base64=re2.compile(
                f"[A-Za-z0-9+/_-]{{{min_blob},}}={{0,2}}(?:\\r?\\n[A-Za-z0-9+/_-]{{4,}}={{0,2}})*"
            ),
            hex=re2.compile(
                "(?:\\\\x[0-9A-Fa-f]{2}){8,}|(?:0[xX][0-9A-Fa-f]{2}[\\s,]*){8,}"
                "|(?:[0-9A-Fa-f]{2}[ :,]){7,}[0-9A-Fa-f]{2}"
            ),
            url=re2.compile(f"{_URL_CHAR}*%[0-9A-Fa-f]{{2}}{_URL_CHAR}*"),
            # one search for common words rot13-encoded or written backwards (each RE2 call
            # lets other threads take the interpreter: one per view, not two)
            encoded_words=re2.compile(f"{_ROT13_GATE}|{_REVERSED_GATE}"),
            rot13_hint=re2.compile("(?i)\\brot[\\s_-]?13\\b"),
            cipher_hint=re2.compile(
                "(?i)\\b(?:caesar|cipher(?:ed)?|atbash|shift(?:ed)?|decrypt"
                "|rot[\\s_-]?(?:[1-9]|1[0-24-9]|2[0-5]))\\b"),  # rot13 is read on its own
            tag_in_word=re2.compile(_TAG_IN_WORD),
            sentence=re2.compile(_SENTENCE),
            spelled=re2.compile(_SPELLED),
            min_blob=min_blob,
        )


# --- character classes -------------------------------------------------------------------------
# a: ASCII letter or digit   p: other ASCII   o: other letter or digit   q: other character
# l: a look-alike letter     k: a character NFKC changes, or a Latin letter to fold
# m: a combining mark        t: a tag character
# z: zero-width   j: zero-width (non-)joiner   w: byte-order mark   s: soft hyphen
# r: bidi override   b: other bidi control   d: bidi mark   v: variation selector

_PLAIN = "apoql"
_HIDDEN = "tzjwsrbdv"
_DROPPED = frozenset("zjwsrbdv")
_INVISIBLE_CLASS = MappingProxyType(
    {
        **dict.fromkeys(_ZERO_WIDTH, "z"),
        **{0x200C: "j", 0x200D: "j", 0xFEFF: "w", 0x00AD: "s"},
        **dict.fromkeys(_BIDI_CONTROLS, "b"),
        **dict.fromkeys(_BIDI_OVERRIDES, "r"),
        **dict.fromkeys(_BIDI_MARKS, "d"),
        **dict.fromkeys(_VARIATION, "v"),
    }
)
_EXACT_BUDGET = 64 * 1024  # characters of regions normalised one run at a time, per text
_CHUNK = 256
_WORD_BUDGET = 16 * 1024  # words with look-alike letters judged one by one, per text
_PLAIN_OR_DROPPED = MappingProxyType(str.maketrans("", "", _PLAIN + "".join(_DROPPED)))
_PLAIN_BREAKS = MappingProxyType(
    {ord(c): "." if c in _PLAIN else "#" for c in _PLAIN + _HIDDEN + "km"}
)
_K_BREAKS = MappingProxyType({ord(c): "." if c == "k" else "#" for c in _PLAIN + _HIDDEN + "km"})
_ASCII_CLASSES = MappingProxyType({c: "a" if chr(c).isalnum() else "p" for c in range(0x80)})


def _classify(code: int) -> str:
    if code < 0x80:
        return _ASCII_CLASSES[code]
    if code in _INVISIBLE_CLASS:
        return _INVISIBLE_CLASS[code]
    if _TAG_FIRST <= code <= _TAG_LAST:
        return "t"
    char = chr(code)
    if 0xD800 <= code <= 0xDFFF:
        return "k"  # a lone surrogate (JSON can carry one) becomes U+FFFD
    if unicodedata.category(char).startswith("M"):
        return "m"
    if code in _LOOKALIKES:
        return "l"
    if code in _LATIN_FOLDS or not unicodedata.is_normalized("NFKC", char):
        return "k"
    return "o" if char.isalnum() else "q"


_Fold = TypeVar("_Fold", str, str | None)


# how many characters one table keeps: the everyday characters of a few scripts (a few
# thousand for Chinese); text that cycles through more starts the table over, so an attacker
# costs it time, never memory (about 2.5 MB a table at most, six tables)
_FOLDS_KEPT = 1 << 14


class _Folds(dict[int, _Fold]):
    """A ``str.translate`` table computed by ``fold`` once per distinct character, shared by
    every text: each ``fold`` is a pure function of the code point, so what one text computed
    serves the next (a Chinese prompt of 1 KB holds some 300 distinct characters, each
    classified once per text before). A plain mapping would raise and catch a KeyError for
    every character it lacks. Safe across threads: entries are only added, or all dropped, and
    a dropped one is computed again."""

    __slots__ = ("_fold",)
    _fold: Callable[[int], _Fold]

    def __init__(self, fold: Callable[[int], _Fold]) -> None:
        super().__init__()
        self._fold = fold

    def __missing__(self, code: int) -> _Fold:
        if len(self) >= _FOLDS_KEPT:
            self.clear()
        value = self[code] = self._fold(code)
        return value


def _drop_invisible(code: int) -> str | None:
    return None if code in _INVISIBLE_CLASS else chr(code)


def _chunk_fold(code: int) -> str | None:
    if code in _INVISIBLE_CLASS:
        return None
    if _TAG_FIRST <= code <= _TAG_LAST:
        return chr(code - _TAG_FIRST) if 0x20 <= code - _TAG_FIRST < 0x7F else None
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)


def _unlookalike(code: int) -> str:
    return chr(_LOOKALIKES.get(code, code))


def _unfold_latin(code: int) -> str:
    return chr(_LATIN_FOLDS.get(code, code))


_CLASSES: _Folds[str] = _Folds(_classify)
_DROP_INVISIBLE: _Folds[str | None] = _Folds(_drop_invisible)
_CHUNK_FOLDS: _Folds[str | None] = _Folds(_chunk_fold)
_UNFOLD_LATIN: _Folds[str] = _Folds(_unfold_latin)
_UNLOOKALIKE: _Folds[str] = _Folds(_unlookalike)


# --- findings over regions of the original text ------------------------------------------------

_MAX_REGIONS = 64


@dataclass(slots=True)
class _Regions:
    """Nearby hits merged into one region (bounded: past ``_MAX_REGIONS`` the last one grows).
    A region scores its highest floor, or more the more hits it holds."""

    kind: ThreatKind
    gap: int
    found: list[list[float]] = field(default_factory=list)  # start, end, hits, floor

    def add(self, start: int, end: int, hits: int, floor: float) -> None:
        last = self.found[-1] if self.found else None
        if last is not None and (start - last[1] <= self.gap or len(self.found) >= _MAX_REGIONS):
            last[1], last[2], last[3] = max(last[1], end), last[2] + hits, max(last[3], floor)
        else:
            self.found.append([start, end, hits, floor])

    def matches(self) -> list[ThreatMatch]:
        return [
            ThreatMatch(self.kind, int(s), int(e), _region_score(hits, floor), DETECTOR)
            for s, e, hits, floor in self.found
        ]


def _region_score(hits: float, floor: float) -> float:
    return round(min(1.0, max(floor, 0.35 + 0.15 * hits)), 2)


# --- the normaliser ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Normalized:
    """The normalised text, the original span of each of its characters (``starts`` has one
    extra entry, the original length), what was hidden, and the original's class string."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]
    findings: list[ThreatMatch]
    classes: str = ""

    def view(self, kind: ViewKind) -> View:
        return View(kind, self.text, (0, self.starts[-1]), self.starts, self.ends)


@dataclass(slots=True)
class _Builder:
    pieces: list[str] = field(default_factory=list)
    starts: array[int] = field(default_factory=lambda: array("q"))
    ends: array[int] = field(default_factory=lambda: array("q"))

    def emit(self, piece: str, start: int, end: int) -> None:
        self.pieces.append(piece)
        self.starts.extend([start] * len(piece))
        self.ends.extend([end] * len(piece))

    def copy(self, text: str, start: int, end: int) -> None:
        self.pieces.append(text[start:end])
        self.starts.extend(range(start, end))
        self.ends.extend(range(start + 1, end + 1))


def _normalize(text: str, patterns: _Patterns) -> _Normalized:
    length = len(text)
    if text.isascii():
        return _Normalized(text, range(length + 1), range(1, length + 1), [])
    classes = text.translate(_CLASSES)
    source = _Classified(text, classes, classes.encode("ascii"))
    if patterns.work.search(source.subject) is None:
        folded, confusables = _fold_lookalikes(
            text, range(length + 1), range(1, length + 1), patterns, classes
        )
        return _Normalized(folded, range(length + 1), range(1, length + 1), confusables, classes)
    plain_breaks = classes.translate(_PLAIN_BREAKS)
    source = _Classified(text, classes, source.subject, plain_breaks, classes.translate(_K_BREAKS))
    built, position, exact = _Builder(), 0, _EXACT_BUDGET
    for match in patterns.work.finditer(source.subject):
        start, end = match.span()
        if classes[start] == "m" and start > position:
            start -= 1  # a combining mark composes with the character before it
        built.copy(text, position, start)
        if not classes[start:end].translate(_PLAIN_OR_DROPPED):
            _emit_without_invisible(built, source, start, end)
        elif end - start <= exact:
            exact -= end - start
            _emit_region(built, source, start, end)
        else:  # hostile amounts of work: spans widen to chunks, the text is still normalised
            _emit_chunks(built, text, start, end)
        position = end
    built.copy(text, position, length)
    built.starts.append(length)
    normalized = "".join(built.pieces)
    folded, confusables = _fold_lookalikes(normalized, built.starts, built.ends, patterns)
    findings = [*_hidden_findings(source, patterns), *confusables]
    return _Normalized(folded, built.starts, built.ends, findings, classes)


@dataclass(frozen=True, slots=True)
class _Classified:
    """A text, its class string, the class string as bytes (RE2 on bytes skips the per-match
    offset conversion it does for ``str``), and two "break" strings where ``str.find("#")``
    finds the end of a run of plain, or of NFKC-changed, characters at C speed."""

    text: str
    classes: str
    subject: bytes
    plain_breaks: str = ""
    changed_breaks: str = ""


def _emit_region(built: _Builder, source: _Classified, start: int, end: int) -> None:
    """Normalise one region of the text run by run: invisible runs dropped, tag runs decoded,
    characters NFKC changes folded, a base character and its marks composed."""
    text, classes, index = source.text, source.classes, start
    while index < end:
        kind = classes[index]
        if kind in _DROPPED:
            index = _run_end(classes, index, end, kind)
        elif kind == "t":
            stop = _run_end(classes, index, end, "t")
            _tag_run(built, text, index, stop)
            index = stop
        elif classes[index + 1 : index + 2] == "m":
            stop = _run_end(classes, index + 1, end, "m")
            built.emit(_fold_cluster(text[index:stop]), index, stop)
            index = stop
        else:
            stop = _kind_run_end(source, index, end)
            _emit_run(built, text, index, stop, kind == "k")
            index = stop


def _emit_without_invisible(built: _Builder, source: _Classified, start: int, end: int) -> None:
    """A region of plain and invisible characters only, at C speed."""
    kept = compress(range(start, end), map(_PLAIN.__contains__, source.classes[start:end]))
    positions = array("q", kept)
    built.pieces.append(source.text[start:end].translate(_DROP_INVISIBLE))
    built.starts.extend(positions)
    built.ends.extend(map((1).__add__, positions))


def _emit_chunks(built: _Builder, text: str, start: int, end: int) -> None:
    """The region normalised chunk by chunk at C speed; each output character maps to the
    span of its chunk (no tag separators, marks composed within a chunk only)."""
    folds, latin = _CHUNK_FOLDS, _UNFOLD_LATIN
    for chunk in range(start, end, _CHUNK):
        stop = min(end, chunk + _CHUNK)
        plain = text[chunk:stop].translate(folds)
        built.emit(unicodedata.normalize("NFKC", plain).translate(latin), chunk, stop)


def _kind_run_end(source: _Classified, start: int, end: int) -> int:
    """Where the run of plain (or of NFKC-changed) characters at ``start`` ends, leaving out a
    last character that is the base of combining marks; always after ``start``. A combining
    mark with no base before it (first in the text, after an invisible character) is a run of
    its own: the break strings mark it as a break, and a run that ended where it began would
    never move on."""
    classes = source.classes
    if start + 1 >= end or classes[start] == "m" or classes[start + 1] in _DROPPED \
            or classes[start + 1] in "tm":
        return start + 1
    breaks = source.changed_breaks if classes[start] == "k" else source.plain_breaks
    stop = breaks.find("#", start, end)
    stop = end if stop < 0 else stop
    return stop - 1 if stop < end and classes[stop] == "m" and stop - 1 > start else stop


def _emit_run(built: _Builder, text: str, start: int, stop: int, changed: bool) -> None:
    if not changed:
        built.copy(text, start, stop)
        return
    folded = _fold_cluster(text[start:stop])
    if len(folded) == stop - start:  # one for one (fullwidth, mathematical letters)
        built.pieces.append(folded)
        built.starts.extend(range(start, stop))
        built.ends.extend(range(start + 1, stop + 1))
        return
    for index in range(start, stop):
        built.emit(_fold_cluster(text[index]), index, index + 1)


def _run_end(classes: str, start: int, end: int, kind: str) -> int:
    while start < end and classes[start] == kind:
        start += 1
    return start


def _fold_cluster(cluster: str) -> str:
    kept = "".join(
        "\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c
        for c in cluster
        if ord(c) not in _INVISIBLE_CLASS
    )
    return unicodedata.normalize("NFKC", kept).translate(_LATIN_FOLDS)


def _tag_run(built: _Builder, text: str, start: int, end: int) -> None:
    """Unicode tag characters mirror ASCII invisibly ("ASCII smuggling"): decode them in place,
    except the tag letters of an emoji subdivision flag."""
    if _is_flag(text, start, end):
        return
    decoded = [
        (index, chr(code))
        for index, code in enumerate((ord(c) - _TAG_FIRST for c in text[start:end]), start)
        if 0x20 <= code <= 0x7E
    ]
    if len(decoded) > 1:
        built.emit(" ", start, start)  # keep the smuggled words apart from the visible ones
    for index, char in decoded:
        built.emit(char, index, index + 1)
    if len(decoded) > 1:
        built.emit(" ", end, end)


def _is_flag(text: str, start: int, end: int) -> bool:
    return (
        start > 0
        and end - start <= 8
        and text[start - 1] == _BLACK_FLAG
        and text[end - 1] == chr(_TAG_LAST)
    )


def _hidden_findings(source: _Classified, patterns: _Patterns) -> list[ThreatMatch]:
    text, classes = source.text, source.classes
    found: list[ThreatMatch] = []
    for count, match in enumerate(patterns.hidden.finditer(source.subject), 1):
        start, end = match.span()
        if count == _MAX_REGIONS:  # bounded: everything left is one last region
            end = max(classes.rfind(kind) for kind in _HIDDEN) + 1
        hits, floor = _hidden_weight(text, classes, start, end)
        if hits:
            score = _region_score(hits, floor)
            found.append(ThreatMatch(ThreatKind.INVISIBLE_TEXT, start, end, score, DETECTOR))
        if count == _MAX_REGIONS:
            break
    return found


def _hidden_weight(text: str, classes: str, start: int, end: int) -> tuple[int, float]:
    """How many characters of a region hide something, and the least score the region gets.
    Not counted: direction marks, one variation selector (it styles an emoji), joiners inside
    emoji sequences and Indic or Persian words, a leading byte-order mark, a few soft hyphens."""
    region = classes[start:end]
    tags = _tag_hits(text, classes, start, end)
    hits = tags + sum(map(region.count, "zrb")) + _stray_joiners(classes, start, end)
    hits += region.count("w") - (1 if start == 0 and region[0] == "w" else 0)
    floor = 1.0 if tags else 0.8 if "r" in region else 0.6 if "b" in region else 0.0
    if "vv" in region:  # bytes smuggled in variation selectors
        hits, floor = hits + region.count("v"), max(floor, 0.9)
    if region.count("s") >= 4:
        hits += region.count("s")
    return hits, floor


def _tag_hits(text: str, classes: str, start: int, end: int) -> int:
    hits, index = 0, classes.find("t", start, end)
    while index >= 0:
        stop = _run_end(classes, index, end, "t")
        hits += 0 if _is_flag(text, index, stop) else stop - index
        index = classes.find("t", stop, end)
    return hits


def _stray_joiners(classes: str, start: int, end: int) -> int:
    stray, index = 0, classes.find("j", start, end)
    while index >= 0:
        before = classes[index - 1] if index else "p"
        after = classes[index + 1 : index + 2] or "p"
        stray += before in "ap" or after in "ap"
        index = classes.find("j", index + 1, end)
    return stray


def _fold_lookalikes(
    text: str,
    starts: Sequence[int],
    ends: Sequence[int],
    patterns: _Patterns,
    classes: str | None = None,
) -> tuple[str, list[ThreatMatch]]:
    """Fold look-alike letters in words that mix them with Latin letters or are made only of
    them; flag the mixed words, and look-alike-only words next to Latin ones. ``classes``:
    the text's class string, when the caller has it already."""
    classes = text.translate(_CLASSES) if classes is None else classes
    if "l" not in classes or "a" not in classes:
        return text, []
    chars: list[str] | None = None
    regions, unlookalike = _Regions(ThreatKind.CONFUSABLES, 32), _UNLOOKALIKE
    words = patterns.lookalike_word.finditer(classes.encode("ascii"))
    for count, match in enumerate(words):
        start, end = match.span()
        if count == _WORD_BUDGET:  # hostile amounts of work: fold the rest wholesale
            chars = chars if chars is not None else list(text)
            chars[start:] = text[start:].translate(unlookalike)
            regions.add(starts[start], ends[-1], 1, 0.5)
            break
        word = classes[start:end]
        mixed = "a" in word
        if not mixed and "o" in word:
            continue  # a real word of another script
        chars = chars if chars is not None else list(text)
        chars[start:end] = text[start:end].translate(unlookalike)
        if mixed or "a" in classes[max(0, start - 4) : start] + classes[end : end + 4]:
            regions.add(starts[start], ends[end - 1], 1, 0.8 if mixed else 0.5)
    return ("".join(chars) if chars is not None else text), regions.matches()


# --- the skeleton view -------------------------------------------------------------------------

_ACCENT_FOLDS = MappingProxyType({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"})
_MAX_LEET_WORD = 24


def _skeleton(view: View, patterns: _Patterns) -> View | None:
    """Accents and combining marks stripped, leetspeak folded (``1gn0r3`` → ``ignore``); for
    matching only. None when it would equal the normalised view."""
    text = view.text
    if (
        not patterns.skeleton_gate.search(_subject(text))
        or view.starts is None
        or view.ends is None
    ):
        return None
    stripped, sources = _strip_accents(text)
    leet = _fold_leet(stripped, patterns)
    if leet == text:
        return None
    if sources is None:
        return View(ViewKind.SKELETON, leet, view.origin, view.starts, view.ends)
    starts = array("q", map(view.starts.__getitem__, sources))
    starts.append(view.starts[-1])
    ends = array("q", map(view.ends.__getitem__, sources))
    return View(ViewKind.SKELETON, leet, view.origin, starts, ends)


def _strip_accents(text: str) -> tuple[str, array[int] | None]:
    """The text with accented Latin letters made ASCII and marks dropped, and for each of its
    characters the index of the character it came from (None: the same index)."""
    if text.isascii():
        return text, None
    table = _PLAIN_LETTERS
    stripped = text.translate(table)
    if len(stripped) == len(text):
        return stripped, None
    pieces = list(map(table.__getitem__, map(ord, text)))
    sources = chain.from_iterable(map(repeat, range(len(text)), map(len, pieces)))
    return "".join(pieces), array("q", sources)


def _plain_letter(code: int) -> str:
    char = chr(code)
    if code < 0x80:
        return char
    if unicodedata.category(char).startswith("M"):
        return ""
    if char.lower() in _ACCENT_FOLDS:
        return _ACCENT_FOLDS[char.lower()]
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return plain if plain and plain.isascii() else char


_PLAIN_LETTERS: _Folds[str] = _Folds(_plain_letter)


def _fold_leet(text: str, patterns: _Patterns) -> str:
    """Fold digits and symbols in runs of words that mix them with letters; once a text holds
    three such runs, short numbers too (``15`` → ``is``). Length-preserving."""
    subject = _subject(text)
    regions = [match.span() for match in patterns.leet_region.finditer(subject)]
    if not regions:
        return text
    if sum(text.count(" ", start, end) + 1 for start, end in regions) >= 3:
        regions += [match.span() for match in patterns.short_numbers.finditer(subject)]
    chars = list(text)
    for start, end in regions:
        if end - start > _MAX_LEET_WORD and text[start:end].isalnum():
            continue  # an identifier or an encoded blob, not a word
        chars[start:end] = text[start:end].translate(_LEET)
    return "".join(chars)


# --- the separated view ------------------------------------------------------------------------

_MAX_SEPARATED_RUNS = 64  # runs of joined words looked at per text: bounded work
_MIN_JOINTS = 3  # four words at least
_SAMPLE_CHARS = 512  # of a run, read to tell its joiner and whether it is a sentence
_HTML_BLANK = "&(?:nbsp|ensp|emsp|thinsp|#160|#x0*a0);"
# runs of four or more words joined by symbols instead of spaces (RE2: linear)
_JOINED_RUN = re2.compile(f"(?i)[\\pL\\pN]+(?:(?:{_HTML_BLANK}|[^\\pL\\pN\\s])+[\\pL\\pN]+)"
                          f"{{{_MIN_JOINTS},}}")
# what joins two words within a run: a run of symbols (the underscore included) or an HTML
# space that a page shows as a blank; the word before each is consumed
_JOINT = re.compile(f"[^\\W_]((?:{_HTML_BLANK}|[^\\w\\s]|_)+)(?=[^\\W_])", re.IGNORECASE)
_JOINER = re.compile(f"(?<=[^\\W_])(?:{_HTML_BLANK}|[^\\w\\s]|_)+(?=[^\\W_])", re.IGNORECASE)


def _separated(view: View) -> View | None:
    """Words joined by a symbol instead of spaces ("Ignore_all_previous_instructions", an
    emoji or a Braille blank between words, ``&nbsp;``) set apart: each run of four or more
    joined words that reads as a sentence has its joiner made spaces, other punctuation kept.
    The classifier skips a text of one word and discounts one of a few, and the rules look
    for words apart, so such a run passed both. Length-preserving; None where no run reads
    as a sentence (identifiers, paths, addresses, encoded blobs)."""
    text = view.text
    if len(text) <= _SAMPLE_CHARS and text.isascii() \
            and not _sentence(text.translate(_PUNCTUATION_TO_SPACE)):
        return None  # a short text that reads as no sentence at all (an id, a path): no run will
    chars: list[str] | None = None
    seen: dict[str, str | None] = {}
    for run in itertools.islice(_JOINED_RUN.finditer(text), _MAX_SEPARATED_RUNS):
        joined = run.group()
        apart = seen[joined] if joined in seen else seen.setdefault(joined, _run_apart(joined))
        if apart is not None:
            if chars is None:
                chars = list(text)
            chars[run.start():run.end()] = apart
    if chars is None:
        return None
    return View(ViewKind.SEPARATED, "".join(chars), view.origin, view.starts, view.ends)


def _run_apart(joined: str) -> str | None:
    """A run of joined words with its joiner made spaces, or None where it reads as no
    sentence. The joiner is what joins its words most often, told from its start."""
    if _ADDRESS.match(joined):
        return None  # an address: its path's words are no sentence
    sample = joined[:_SAMPLE_CHARS]
    if sample.isascii() and "&" not in sample:  # one symbol joins: no pattern needed
        # the symbol between the most words (a rule of dashes counts once, not by its length)
        count, joiner = max(((sum(1 for part in sample.split(symbol) if part) - 1, symbol)
                             for symbol in set(sample.translate(_SYMBOLS_ONLY))), default=(0, ""))
        if count < _MIN_JOINTS or not _sentence(sample.replace(joiner, " ")):
            return None
        return joined.replace(joiner, " ")
    joints = Counter(_JOINT.findall(sample))
    if not joints:
        return None
    joiner, count = joints.most_common(1)[0]
    if count < _MIN_JOINTS or not _sentence(_apart(sample, joiner)):
        return None
    return _apart(joined, joiner)


def _sentence(text: str) -> bool:
    """Whether ``text``'s words read as a sentence: a tenth of them are words sentences are
    made of (an identifier, a path or an encoded blob has few or none)."""
    words = text.casefold().split()
    return sum(word in _CUE_WORDS for word in words) * 10 >= len(words)


_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]{0,30}://", re.IGNORECASE)


_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(string.punctuation, " "))
_SYMBOLS_ONLY = str.maketrans(dict.fromkeys(string.ascii_letters + string.digits
                                            + string.whitespace))


def _apart(text: str, joiner: str) -> str:
    """``text`` with ``joiner`` made spaces where it joins two words, also within a longer
    run of symbols ("text:_your" -> "text: your")."""
    spaces = " " * len(joiner)
    return _JOINER.sub(lambda m: m.group().replace(joiner, spaces), text)


# function words, and the words of instructions to a model
_CUE_WORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "if", "then", "than", "to", "of", "in", "on", "at",
    "by", "for", "from", "with", "as", "into", "about", "above", "below", "before", "after",
    "now", "not", "no", "do", "does", "don", "is", "are", "was", "be", "been", "it", "this",
    "that", "these", "those", "there", "here", "i", "me", "my", "mine", "we", "us", "our", "you",
    "your", "yours", "he", "she", "they", "them", "his", "her", "their", "what", "which", "who",
    "how", "why", "all", "any", "every", "each", "some", "only", "just", "also", "please",
    "first", "next", "again", "ignore", "disregard", "forget", "override", "bypass", "reveal",
    "print", "show", "tell", "say", "write", "output", "repeat", "instructions", "instruction",
    "rules", "rule", "prompt", "system", "developer", "mode", "act", "pretend", "role",
    "password", "secret", "key", "hidden", "previous", "prior", "earlier", "original", "new",
})


# --- decoding blobs ----------------------------------------------------------------------------

_ROT13 = MappingProxyType(
    str.maketrans(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
    )
)
_WORD_EDGES = "\"'()[]{}<>,.!?;:*_-`"


@dataclass(slots=True)
class _Budget:
    limits: DecodeLimits
    blobs: int = 0
    decoded: int = 0
    candidates: int = 0
    candidate_chars: int = 0
    complete: bool = True

    def take(self, length: int, chars_per_byte: float) -> int:
        """How many characters of a candidate of ``length`` may be decoded (0: none)."""
        limits = self.limits
        room = min(
            limits.max_candidate_chars - self.candidate_chars,
            int((limits.max_decoded_bytes - self.decoded) * chars_per_byte),
        )
        if self.candidates >= limits.max_candidates or self.blobs >= limits.max_blobs:
            room = 0
        allowed = max(0, min(length, room))
        self.complete = self.complete and allowed == length
        self.candidates += 1 if allowed else 0
        self.candidate_chars += allowed
        return allowed

    def accept(self, size: int) -> None:
        """Count a decoded blob (``take`` has already made room for it)."""
        self.blobs, self.decoded = self.blobs + 1, self.decoded + size


@dataclass(slots=True)
class _Decoder:
    patterns: _Patterns
    budget: _Budget
    views: list[View]
    findings: list[ThreatMatch]

    def scan(self, view: View) -> None:
        """Decode the blobs in ``view``, and the blobs in those, down to the maximum depth."""
        if view.depth >= self.budget.limits.max_depth:
            return
        covered = 0
        for kind, start, end in self._candidates(view.text):
            if start < covered:
                continue
            decoded = self._decode(kind, view.text[start:end])
            if decoded is not None:
                self.add(*decoded, view.span(start, end), view)
                covered = end
        subject = _subject(view.text)
        gated = self.patterns.encoded_words.search(subject) is not None
        for start, end in self._rot13_runs(view.text, subject, gated):
            rot13 = view.text[start:end].translate(_ROT13)
            if self.budget.take(end - start, 1.0):
                self.add(ViewKind.ROT13, rot13, view.span(start, end), view)
        for start, end in self._reversed_runs(view.text, subject) if gated else ():
            if self.budget.take(end - start, 1.0):
                self.add(ViewKind.REVERSED, view.text[start:end][::-1], view.span(start, end),
                         view)
        ciphered = self._ciphered(view.text)
        if ciphered is not None and self.budget.take(ciphered[1] - ciphered[0], 1.0):
            self.add(ViewKind.CIPHER, ciphered[2], view.span(ciphered[0], ciphered[1]), view)
        if "<" in view.text:
            self._untag(view)
        # a search per letter (C speed; none at all in an ASCII text), not a set of the text
        upside_down = {letter for letter in _UPSIDE_DOWN_ONLY if letter in view.text}
        if len(upside_down) >= 3:
            self._right_way_up(view, upside_down)
        if gated:  # each word written backwards, in its place ("erongI lla suoiverp")
            for start, end, first, last in _words_reversed_runs(view.text):
                if self.budget.take(end - start, 1.0):
                    self.add(ViewKind.REVERSED, _words_reversed(view.text[start:end]),
                             view.span(first, last), view)
        self._spell(view, subject)
        text = view.text
        if text.count("&#") + text.count("\\u") + text.count("\\x") >= _MIN_ESCAPES:
            self._unescape(view)
        if not view.text.isascii() and _REGIONAL_CHAR.search(view.text):
            self._regional(view)
        if text.count("ay") + text.count("AY") >= _MIN_PIG_WORDS:  # one C pass each
            self._unpig(view)

    def _unpig(self, view: View) -> None:
        """Pig Latin read back where four words or more in a row are written so ("ignoreway
        allway eviouspray instructionsway"): one view, each such run's words read back in
        place (English has few words that end in "ay", and never four in a row)."""
        # one RE2 pass (7 µs per 4 KB), not a loop over every word: a mail that names a
        # weekday or "today" four times passes the gate, and reading its words one by one cost
        # a 4 KB document about a third of its whole scan; nor eleven counts of "ay" before
        # a space, a full stop... (30 µs per 4 KB, on every text)
        runs = [run.span(1) for run in _PIG_RUN.finditer(view.text)]
        if not runs or not self.budget.take(runs[-1][1] - runs[0][0], 1.0):
            return
        pieces, position = [], runs[0][0]
        for start, end in runs:
            pieces += [view.text[position:start], _PIG_WORD.sub(_unpigged, view.text[start:end])]
            position = end
        self.add(ViewKind.PIG_LATIN, "".join(pieces), view.span(runs[0][0], runs[-1][1]), view)

    def _spell(self, view: View, subject: str | bytes) -> None:
        """Runs of letters spelled out — single letters apart by a space or by one of . - _ *
        | (words apart by more space, a slash or a space) — read as the words they spell: a
        reader, or a model, reads "I g n o r e   a l l" as easily as the clear text."""
        data = subject if isinstance(subject, bytes) else \
            view.text.encode("ascii", "replace")  # one byte per character
        if not may_spell(data):
            return
        runs = [next(match.span(i) for i in range(1, 7) if match.group(i)) for match in
                itertools.islice(self.patterns.spelled.finditer(subject), _MAX_SPELLED)]
        if not runs or not self.budget.take(runs[-1][1] - runs[0][0], 1.0):
            return
        # one view, each run read as words in its place (what lies between runs, such as the
        # punctuation that ended one, kept): a sentence spelled out reads whole
        pieces, position = [], runs[0][0]
        for start, end in runs:
            pieces += [view.text[position:start], _spelled_words(view.text[start:end])]
            position = end
        self.add(ViewKind.SPELLED, "".join(pieces), view.span(runs[0][0], runs[-1][1]), view)

    def _unescape(self, view: View) -> None:
        """The text with character references (``&#73;&#103;``, ``&lt;``) and ``\\u0049`` /
        ``\\x49`` escapes decoded, where it holds four escapes or more: a page or a JSON
        string shows them decoded, a model reads them either way."""
        escapes = list(itertools.islice(_ESCAPES.finditer(view.text), _MIN_ESCAPES))
        if len(escapes) < _MIN_ESCAPES or not self.budget.take(len(view.text), 1.0):
            return
        decoded = _ESCAPES.sub(_unescaped, view.text)
        if decoded != view.text:
            self.add(ViewKind.ESCAPED, decoded, view.span(escapes[0].start(), len(view.text)),
                     view)

    def _regional(self, view: View) -> None:
        """Regional indicator symbols as the letters they show, where there are more of them
        than a few flags (each a pair of them) would hold."""
        letters = [m.start() for m in _REGIONAL_CHAR.finditer(view.text)]
        if len(letters) >= _MIN_REGIONAL and self.budget.take(len(view.text), 1.0):
            self.add(ViewKind.REGIONAL, view.text.translate(_REGIONAL_LETTERS),
                     view.span(letters[0], letters[-1] + 1), view)

    def hidden(self, text: str, normalized: _Normalized) -> None:
        """Blobs the normaliser saw: bytes in variation selectors, right-to-left overrides."""
        top = normalized.view(ViewKind.NORMALIZED)
        classes = normalized.classes  # "v{4,}" needs "vvvv": RE2 only then
        runs = self.patterns.selectors.finditer(classes.encode("ascii")) \
            if "vvvv" in classes else ()
        for match in runs:
            start, end = match.span()
            run = text[start : start + self.budget.take(end - start, 1.0)]
            data = bytes(_selector_byte(ord(c)) for c in run)
            decoded = _as_text(data, truncated=len(run) < end - start) if run else None
            if decoded is not None:
                self.add(ViewKind.VARIATION_SELECTORS, decoded, (start, end), top)
        for group in self._overrides(text) if normalized.classes else []:
            content = "\n".join(text[start + 1 : end][::-1] for start, end in group)
            allowed = self.budget.take(len(content), 1.0)
            if not allowed:
                break
            origin = (group[0][0], group[-1][1])
            self.add(ViewKind.REVERSED, content[:allowed], origin, top)

    def _overrides(self, text: str) -> list[list[tuple[int, int]]]:
        """Right-to-left overrides (each to its pop or the end of its line), consecutive lines
        grouped: their visual order is each line reversed."""
        groups: list[list[tuple[int, int]]] = []
        position = text.find("\u202e")
        while position >= 0 and len(groups) < self.budget.limits.max_blobs:
            end = min(_find(text, "\u202c", position), _find(text, "\u2069", position))
            end = min(end, _find(text, "\n", position))
            if groups and position - groups[-1][-1][1] <= 2:
                groups[-1].append((position, end))
            else:
                groups.append([(position, end)])
            position = text.find("\u202e", end)
        return groups

    def add(self, kind: ViewKind, decoded: str, origin: tuple[int, int], parent: View) -> None:
        self.budget.accept(len(decoded))
        normalized = _normalize(decoded, self.patterns)
        view = View(kind, normalized.text, origin, depth=parent.depth + 1)
        self.views.append(view)
        score = _PAYLOAD_SCORES[kind]
        self.findings.append(ThreatMatch(ThreatKind.ENCODED_PAYLOAD, *origin, score, DETECTOR))
        self.findings.extend(
            ThreatMatch(found.kind, *origin, found.score, DETECTOR) for found in normalized.findings
        )
        self.scan(view)

    def _candidates(self, text: str) -> Iterator[tuple[ViewKind, int, int]]:
        """Base64, hex and URL-encoded runs, in order of their start. Each pattern is searched
        only where a cheap check says it could match (every RE2 call releases the GIL)."""
        subject = _subject(text)
        streams = []
        if _may_hold_run(subject, self.patterns.min_blob):
            streams.append(_spans(ViewKind.BASE64, self.patterns.base64, subject))
        if len(text) >= _MIN_HEX_CHARS:
            streams.append(_spans(ViewKind.HEX, self.patterns.hex, subject))
        if "%" in text:
            streams.append(_spans(ViewKind.URL, self.patterns.url, subject))
        return heapq.merge(*streams, key=lambda candidate: candidate[1])

    def _decode(self, kind: ViewKind, raw: str) -> tuple[ViewKind, str] | None:
        compact = raw if kind is ViewKind.URL else "".join(raw.split())
        if kind is ViewKind.BASE64 and _is_hex(compact):
            kind = ViewKind.HEX
        if not _is_worth_trying(kind, compact):
            return None
        allowed = self.budget.take(len(compact), _CHARS_PER_BYTE[kind])
        data = _DECODERS[kind](compact[:allowed]) if allowed else None
        text = None if data is None else _as_text(data, truncated=allowed < len(compact))
        return None if text is None else (kind, text)

    def _rot13_runs(self, text: str, subject: str | bytes,
                    gated: bool) -> list[tuple[int, int]]:
        """Sentences that read as English once rot13-decoded and not before, runs merged
        (``gated``: the text holds common words encoded)."""
        hint = self.patterns.rot13_hint.search(subject) if "13" in text else None
        if hint is not None:  # "decode this rot13": everything after it, unless plain English
            rest = text[hint.end() :]
            if rest and _english_words(rest.translate(_ROT13)) >= _english_words(rest):
                return [(hint.end(), len(text))]
            return []
        if not gated:
            return []
        return _english_runs(text, self.patterns.sentence.finditer(subject),
                             lambda sentence: sentence.translate(_ROT13))

    def _right_way_up(self, view: View, letters: set[str]) -> None:
        """Text turned upside down ("ʇdɯoɹd ɯǝʇsʎs"), from the first word to the last that
        hold ``letters`` (those only such text uses): its characters mapped back, in reverse
        order."""
        text = view.text
        first = min(text.find(letter) for letter in letters)
        last = max(text.rfind(letter) for letter in letters)
        start = max(text.rfind(" ", 0, first), text.rfind("\n", 0, first)) + 1
        ends = [i for i in (text.find(" ", last), text.find("\n", last)) if i >= 0]
        end = min(ends, default=len(text))
        if self.budget.take(end - start, 1.0):
            self.add(ViewKind.UPSIDE_DOWN, text[start:end].translate(_RIGHT_WAY_UP)[::-1],
                     view.span(start, end), view)

    def _untag(self, view: View) -> None:
        """The text without markup that shows nothing, where it splits words ("Ig<b></b>nore",
        "Ig<!-- -->nore"): a page shows the word whole, the rules and the classifier saw
        two. Two such splits at least (one is a typo's worth); a line break is no such markup.
        Spans the first to the last split."""
        splits = [m.span() for m in itertools.islice(
            self.patterns.tag_in_word.finditer(view.text), _MAX_TAG_SPLITS)
            if _BREAKS.search(m.group()) is None]
        if len(splits) >= 2 and self.budget.take(len(view.text), 1.0):
            self.add(ViewKind.UNTAGGED, _EMPTY_MARKUP.sub("", view.text),
                     view.span(splits[0][0], splits[-1][1]), view)

    def _ciphered(self, text: str) -> tuple[int, int, str] | None:
        """What follows a mention of a Caesar shift, Atbash or a cipher, decoded by whichever
        of them makes it read as English when it does not already (bounded: only after such a
        mention, at most ``_CIPHER_CHARS`` characters)."""
        folded = text.casefold()
        if not any(word in folded for word in _CIPHER_WORDS):
            return None
        hint = self.patterns.cipher_hint.search(text)
        if hint is None:
            return None
        # what is ciphered follows the sentence that says so ("Shift each letter back by 3
        # and follow: ...")
        stops = [i for i in (text.find(c, hint.end(), hint.end() + 200) for c in ":.\n")
                 if i >= 0]
        start = min(stops) + 1 if stops else hint.end()
        rest = text[start : start + _CIPHER_CHARS]
        words, plain = len(rest.split()), _english_words(rest)
        if words < 2 or plain * 4 >= words:  # English already (a "night shift" roster)
            return None
        found, decoded = max((_english_words(d), d) for d in map(rest.translate, _CIPHERS))
        if found >= 2 and found > 2 * plain:
            return start, start + len(rest), decoded
        return None

    def _reversed_runs(self, text: str, subject: str | bytes) -> list[tuple[int, int]]:
        """Sentences written backwards ("tpmorp metsys ruoy laever"): they read as English
        once reversed and not before, runs merged. A model told to read them backwards will."""
        # reversed, a short sentence keeps its palindromes ("saw"/"was", "I"): more English
        # words suffice (the gate already asked for common words written backwards)
        return _english_runs(text, self.patterns.sentence.finditer(subject),
                             lambda sentence: sentence[::-1], margin=1)


# Characters spelled out: eight or more single characters, each apart from the next by one to
# three spaces (words apart by more than one, or by a slash or bar set apart by spaces), or by
# one of . - _ * | (words apart by a space), or by one of those and a space (words apart by
# one more: "I. g. n. o. r. e.  a. l. l.").
_SPELLED = "|".join([
    "(?:^|\\s)(\\S(?:[ \\t\\r\\n]{1,3}\\S){7,})(?:\\s|$)",
    *(f"(?:^|\\s)([^\\s{p}](?:{p}\\s{{0,3}}[^\\s{p}]|\\s{{1,2}}[^\\s{p}]){{7,}})"
      for p in ("\\.", "\\*", "_", "\\|", "-"))])
_MAX_SPELLED = 64
_LINE = re.compile(r"[^\n]+")
_NON_SPACE = re.compile(r"\S+")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_WIDE_GAP = re.compile(r"\s{2,}|\s*[\r\n]\s*| [/|] ")
_MIN_ESCAPES = 4
_ESCAPES = re.compile(r"&#(?:[0-9]{1,7}|[xX][0-9A-Fa-f]{1,6});|&[A-Za-z]{2,8};"
                      r"|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}")
_MIN_REGIONAL = 8
_REGIONAL_CHAR = re.compile("[\U0001F1E6-\U0001F1FF]")
_REGIONAL_LETTERS = MappingProxyType(
    {0x1F1E6 + i: letter for i, letter in enumerate(string.ascii_uppercase)})


def _spelled_words(run: str) -> str:
    """A run of letters spelled out as words: the separators between letters dropped, each gap
    between words a space (letters apart by a space: words apart by more space or a slash;
    letters one to a line: words apart by a blank line; letters apart by punctuation: words
    apart by white space)."""
    if run[1] == " ":
        words = _WIDE_GAP.split(run)
    elif run[1] in "\r\n":  # written downwards, a letter a line
        words = [w.replace("\r", "").replace("\n", " ") for w in _BLANK_LINE.split(run)]
    elif run[2].isspace():  # a separator and a space after each letter, words apart by more
        return " ".join("".join(c for c in word if c != run[1] and not c.isspace())
                        for word in _WIDE_GAP.split(run))
    else:
        words = [w for w in run.split() if w not in "/|"]
    return " ".join(word.strip()[::2] for word in words)  # character, separator, character


_MIN_PIG_WORDS = 4
# words (runs of ASCII letters) ending in "ay", four or more in a row: whatever lies between two
# words is no letter, and the last word ends where a letter does not follow
_PIG_RUN = re2.compile(
    f"([A-Za-z]*[aA][yY](?:[^A-Za-z]+[A-Za-z]*[aA][yY]){{{_MIN_PIG_WORDS - 1},}})(?:[^A-Za-z]|\\z)")
_PIG_WORD = re.compile(r"\b([A-Za-z]+?)(w|y)?ay\b", re.IGNORECASE)
_VOWELS = frozenset("aeiouAEIOU")


def _unpigged(match: re.Match[str]) -> str:
    """One word of Pig Latin read back: a word that began with a vowel got "way" (or "yay");
    one that began with consonants got them moved to its end, then "ay". A very common word
    wins (the longest cluster a word can begin with first, then the vowel's reading: "your",
    "was" rather than "our", "as"), then any English word (``ztai.core.words``); else the
    vowel's reading; else the longest such cluster."""
    stem, glide = match.group(1), match.group(2) or ""
    vowel_first = stem if glide and stem[:1] in _VOWELS else None  # "ignore" + "way"
    whole = stem + glide
    moved = [k for k in range(1, min(4, len(whole) - 1) + 1) if not _VOWELS & set(whole[-k:])]
    guesses = [whole[-k:] + whole[:-k] for k in moved]  # "pr" + "evious", from "eviouspr"
    onsets = [g for k, g in zip(moved, guesses, strict=True) if g[:k].lower() in _ONSETS]
    consonant_first = [*reversed(onsets), *guesses]
    vowel = [vowel_first] if vowel_first else []
    words = common_words()
    for known, readings in ((_ENGLISH, consonant_first), (_ENGLISH, vowel), (words, vowel),
                            (words, consonant_first)):
        found = next((g for g in readings if g.lower() in known), None)
        if found is not None:
            return found
    return vowel_first or (onsets[-1] if onsets else guesses[0] if guesses else whole)


# the consonant clusters English words begin with
_ONSETS = frozenset([
    *"bcdfghjklmnpqrstvwxyz", "bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gr",
    "kn", "kr", "ph", "pl", "pr", "qu", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw",
    "th", "tr", "tw", "wh", "wr", "sch", "scr", "shr", "spl", "spr", "squ", "str", "thr"])


def _words_reversed_runs(text: str) -> list[tuple[int, int, int, int]]:
    """Lines (a sentence's full stop moves to its last word's front, ".tpmorp": lines, not
    sentences) that read as English with each word turned around, more than as they are and
    no less than the whole line turned around (which reads as the same words, in the other
    order: text written backwards gets both views, the rules match the one in order); each
    line's span, and the span from its first word so written to its last."""
    runs: list[tuple[int, int, int, int]] = []
    for match in _LINE.finditer(text):
        line = match.group()
        turned = _english_words(_words_reversed(line))
        if turned >= 2 and turned > _english_words(line) and \
                turned >= _english_words(line[::-1]):
            # where it is: from the first word that reads as English only turned to the last
            turned_words = [w.span() for w in _NON_SPACE.finditer(line)
                            if _english_words(w.group()[::-1]) > _english_words(w.group())]
            runs.append((*match.span(), match.start() + turned_words[0][0],
                         match.start() + turned_words[-1][1]))
    return runs


def _words_reversed(text: str) -> str:
    """Each word written backwards in its place; spaces and length kept."""
    return re.sub(r"\S+", lambda m: m.group()[::-1], text)


def _unescaped(match: re.Match[str]) -> str:
    escape = match.group()
    if escape[0] == "&":
        return html.unescape(escape)
    code = int(escape[2:], 16)
    return chr(code) if not 0xD800 <= code < 0xE000 else "\ufffd"


def _english_runs(text: str, sentences: Iterator[Any], decode: Callable[[str], str],
                  margin: int = 2) -> list[tuple[int, int]]:
    """Sentences that read as English once decoded and not before (``margin`` times more
    English words), neighbours merged."""
    runs: list[tuple[int, int]] = []
    joinable = False
    for match in sentences:
        sentence = text[match.start() : match.end()]
        plain, decoded = _english_words(sentence), _english_words(decode(sentence))
        if decoded >= 2 and decoded > margin * plain:
            start = runs.pop()[0] if joinable else match.start()
            runs.append((start, match.end()))
            joinable = True
        elif plain or decoded:
            joinable = False
    return runs


def _spans(kind: ViewKind, pattern: Any, text: str | bytes) -> Iterator[tuple[ViewKind, int, int]]:
    for match in pattern.finditer(text):
        yield kind, *match.span()


# The shortest hex run: eight byte pairs with seven separators ("de:ad:be:ef:..").
_MIN_HEX_CHARS = 23
# Base64 alphabet (both variants) to "a", everything else to " ", for _may_hold_run.
_RUN_CHARS = bytes.maketrans(
    bytes(range(256)),
    bytes(ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/_-") else ord(" ")
          for b in range(256)),
)


def _may_hold_run(subject: str | bytes, length: int) -> bool:
    """Whether ``subject`` may hold ``length`` base64 characters in a row (always for
    non-ASCII text, which RE2 is left to search)."""
    if isinstance(subject, str):
        return len(subject) >= length
    return b"a" * length in subject.translate(_RUN_CHARS)


def _subject(text: str) -> str | bytes:
    """What to give RE2: an ASCII text as bytes (same offsets, no per-match conversion)."""
    return text.encode("ascii") if text.isascii() else text


def _english_words(sentence: str) -> int:
    return sum(word.strip(_WORD_EDGES).lower() in _ENGLISH for word in sentence.split())


def _is_hex(compact: str) -> bool:
    digits = compact[2:] if compact[:2] in ("0x", "0X") else compact
    return len(digits) % 2 == 0 and not digits.translate(_HEX_DIGITS)


def _is_worth_trying(kind: ViewKind, compact: str) -> bool:
    if kind is ViewKind.URL:
        return compact.count("%") >= 2
    if kind is ViewKind.BASE64:  # encoded text mixes cases or holds digits; plain words do not
        return not (compact.isalpha() and (compact.islower() or compact.isupper()))
    return True


def _from_base64(compact: str) -> bytes | None:
    body = compact.rstrip("=")
    body = body[:-1] if len(body) % 4 == 1 else body
    altchars = b"-_" if "-" in body or "_" in body else None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the candidate pattern admits
        return None  # base64 characters only, and the padding is made right above


def _from_hex(compact: str) -> bytes | None:
    digits = compact.lower().replace("\\x", "").replace("0x", "").translate(_HEX_SEPARATORS)
    try:
        return bytes.fromhex(digits[: len(digits) - len(digits) % 2])
    except ValueError:  # pragma: no cover - the candidate patterns admit hex digits only
        return None


def _from_url(compact: str) -> bytes | None:
    return unquote_to_bytes(compact)


def _as_text(data: bytes, *, truncated: bool) -> str | None:
    """Mostly printable UTF-8 text with letters in it, or None (binary, random, too short)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        if not truncated or error.start < len(data) - 3:
            return None
        text = data[: error.start].decode("utf-8")  # a character cut by the limit
    if len(text) < 4:
        return None
    printable = sum(map(str.isprintable, text)) + sum(map(text.count, "\n\r\t"))
    letters = sum(map(str.isalpha, text))
    return text if printable >= 0.95 * len(text) and letters >= 0.3 * len(text) else None


def _selector_byte(code: int) -> int:
    return code - 0xFE00 if code < 0xFE10 else code - 0xE0100 + 16


def _find(text: str, char: str, start: int) -> int:
    found = text.find(char, start)
    return len(text) if found < 0 else found


_HEX_DIGITS = MappingProxyType(str.maketrans("", "", "0123456789abcdefABCDEF"))
_HEX_SEPARATORS = MappingProxyType(str.maketrans("", "", " :,\t\r\n"))
_CHARS_PER_BYTE = MappingProxyType({ViewKind.BASE64: 4 / 3, ViewKind.HEX: 2.0, ViewKind.URL: 1.0})
_DECODERS: Mapping[ViewKind, Callable[[str], bytes | None]] = MappingProxyType(
    {ViewKind.BASE64: _from_base64, ViewKind.HEX: _from_hex, ViewKind.URL: _from_url}
)

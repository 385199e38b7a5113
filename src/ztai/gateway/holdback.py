"""A stream's text held back by a bounded window: an event leaves only once ``window``
characters of answer follow it, so whatever starts in it (a secret, a pseudonym to restore) is
complete when it is judged. A span across the cut moves the cut back to the span's start: the
event goes out shorter and its tail travels with the next event, so no secret is ever split
over two chunks with the first half already sent. Never more than ``window`` characters (plus
one chunk) are held; the whole answer is never buffered.

Only events whose text is one piece (a content delta) can be cut; where a cut would need to
split any other event, a span that the rules act on blocks the stream (fail closed) and a
pseudonym is left as the model wrote it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from ztai.gateway.answer import AnswerGuard
from ztai.gateway.openai.paths import rewrite_answer
from ztai.gateway.plan import Piece, ReplyReader, with_extras
from ztai.protection.model import Match
from ztai.protection.redact import TOKEN
from ztai.upstream.interface import StreamEvent

DEFAULT_WINDOW = 256
_TOKEN_OPENS = TOKEN.pattern[0]  # "⟦": every pseudonym starts with it


@dataclass(slots=True)
class _Held:
    event: StreamEvent
    pieces: list[Piece]
    text: str  # what this event will carry (its own text, minus/plus what moved at cuts)


class TextWindow:
    def __init__(self, reader: ReplyReader, guard: AnswerGuard,
                 window: int = DEFAULT_WINDOW) -> None:
        self._reader, self._guard, self._window = reader, guard, window
        self._queue: deque[_Held] = deque()
        self._held_chars = 0
        self._sent = 0  # characters of answer released so far
        self._context = ""  # the last released characters, so detectors see across the cut

    def push(self, event: StreamEvent) -> list[StreamEvent]:
        """Take one upstream event; return those ready to go (raises ``Blocked``)."""
        data = event.data or {}
        pieces = self._reader.delta_pieces(data)
        text = "".join(t for _, t in pieces)
        self._queue.append(_Held(self._whole(event, data), pieces, text))
        self._held_chars += len(text)
        return self._release_while(self._followed)

    def _followed(self) -> bool:
        """Whether enough text follows the head event for it to go: ``window`` characters,
        unless a run of encoded-looking text crosses its end and goes on to the end of what is
        held (a key encoded may be longer than the window: 492 characters for a 164-character
        key percent-encoded, ~700 as byte values); then up to ``MAX_RUN_HOLD`` characters."""
        after = self._held_chars - len(self._queue[0].text)
        if after < self._window:
            return False
        return after >= MAX_RUN_HOLD or not _run_goes_on(
            self._queue[0].text, [h.text for h in islice(self._queue, 1, None)])

    def flush(self) -> list[StreamEvent]:
        """The stream ended: everything held goes (judged as a whole)."""
        return self._release_while(lambda: True)

    def _release_while(self, ready: Callable[[], bool]) -> list[StreamEvent]:
        """Release events from the head while ``ready()``, scanning the held text once: each
        release only shifts the spans of that one scan (no text arrives in between)."""
        out: list[StreamEvent] = []
        matches: list[Match] | None = None
        while self._queue and ready():
            if matches is None:
                matches = self._scan()
            if not matches and self._as_received():
                out.append(self._pass(self._queue[0]))
                continue
            event, cut = self._release(matches)
            out.append(event)
            matches = [Match(m.kind, m.start - cut, m.end - cut, m.score, m.detector)
                       for m in matches if m.end > cut]
        return out

    def _as_received(self) -> bool:
        """Nothing found and the head event's text is its own: it may go out as it came (no
        cut to move, nothing to clean), unless a pseudonym in the held text is to be restored."""
        head = self._queue[0]
        if head.text != "".join(t for _, t in head.pieces):
            return False
        return self._guard.flow.restorer is None or not any(
            _TOKEN_OPENS in h.text for h in self._queue)

    def _pass(self, head: _Held) -> StreamEvent:
        """``_release`` of an event that goes out as it came."""
        self._dequeue(head, len(head.text))
        return head.event

    def _dequeue(self, head: _Held, cut: int) -> None:
        """The head leaves the queue with its first ``cut`` characters sent."""
        self._queue.popleft()
        self._held_chars -= len(head.text)
        self._sent += cut
        self._context = (self._context + head.text[:cut])[-self._window:]

    def _scan(self) -> list[Match]:
        """Findings in the held text (spans relative to its start), with the last released
        characters before it so that a finding across the cut is seen."""
        buffer = "".join(h.text for h in self._queue)
        base = len(self._context)
        return [Match(m.kind, m.start - base, m.end - base, m.score, m.detector)
                for m in self._guard.detect(self._context + buffer) if m.end > base]

    def _whole(self, event: StreamEvent, data: dict[str, object]) -> StreamEvent:
        """Complete copies in an event (a final summary), and what the provider put beside
        the model's text, are judged whole, right away."""
        pieces = with_extras(self._reader, self._reader.whole_pieces(data), data)
        if not pieces:
            return event
        changed = {}
        for path, text, provider in pieces:
            cleaned = self._guard.clean(text, self._guard.detect(text, provider), record=False)
            if cleaned != text:
                changed[path] = cleaned
        return StreamEvent(rewrite_answer(data, changed), event.event) if changed else event

    def _release(self, matches: list[Match]) -> tuple[StreamEvent, int]:
        head = self._queue[0]
        buffer = "".join(h.text for h in self._queue)
        cut = self._cut(len(head.text), buffer, matches)
        mine = [m for m in matches if m.start < cut]
        event = self._retext(head, cut, mine)
        self._dequeue(head, cut)
        if cut < len(head.text):  # the tail travels with the next event
            rest = head.text[cut:]
            self._queue[0].text = rest + self._queue[0].text
            self._held_chars += len(rest)
        return event, cut

    def _cut(self, cut: int, buffer: str, matches: list[Match]) -> int:
        """Move ``cut`` back before any finding or pseudonym that crosses it, where the events
        on both sides can be cut; where they cannot, a finding the rules act on blocks."""
        spans = [(m.start, m.end) for m in matches]
        spans += [(t.start(), t.end()) for t in TOKEN.finditer(buffer)]
        end, moved = cut, True
        while moved:  # the cut only moves back, so this ends
            moved = False
            for start, stop in spans:
                # a finding that began in text already sent (start < 0) pins the cut at 0
                if start < cut < stop and max(start, 0) < cut:
                    cut, moved = max(start, 0), True
        if cut == end or self._splittable():
            return cut
        self._guard.refuse_split([m for m in matches if m.start < end < m.end])
        return end

    def _splittable(self) -> bool:
        return (len(self._queue) > 1 and len(self._queue[0].pieces) == 1
                and len(self._queue[1].pieces) == 1)

    def _retext(self, held: _Held, cut: int, matches: list[Match]) -> StreamEvent:
        """The event as it may go out: each piece of its text cleaned (findings within it acted
        on, pseudonyms restored); a single piece carries exactly ``held.text[:cut]``."""
        data = held.event.data or {}
        if len(held.pieces) == 1:
            path, original = held.pieces[0]
            within = [m for m in matches if m.end <= cut]
            self._guard.refuse_split([m for m in matches if m.end > cut])
            text = self._guard.clean(held.text[:cut], _clip(within), self._sent)
            return held.event if text == original else StreamEvent(
                rewrite_answer(data, {path: text}), held.event.event)
        changed: dict[str, str] = {}
        offset = 0
        for path, original in held.pieces:
            stop = offset + len(original)
            within = [Match(m.kind, m.start - offset, m.end - offset, m.score, m.detector)
                      for m in matches if m.start >= offset and m.end <= stop]
            self._guard.refuse_split([m for m in matches if (m.start < stop and m.end > stop)
                                      or m.start < offset < m.end])
            text = self._guard.clean(original, within, self._sent + offset)
            if text != original:
                changed[path] = text
            offset = stop
        return StreamEvent(rewrite_answer(data, changed), held.event.event) if changed \
            else held.event


MAX_RUN_HOLD = 2048  # characters held after an event while a run crosses its end
_SHORT = 4  # a word of a list or of text spelled out: "255,", "0x4b", "A"


def _run_goes_on(head: str, rest: list[str]) -> bool:
    """Whether the text after ``head`` continues a run that crosses ``head``'s end to the end of
    the held text: one word with no white space (hex, base64, percent-encoding, escapes), or
    words of at most ``_SHORT`` characters (byte values, text spelled out) from the last one
    of ``head`` on. Prose breaks both within a few words."""
    following = "".join(rest)
    if not head or not following:
        return False
    if not head[-1].isspace() and len(following.split(None, 1)) == 1 and \
            not following[0].isspace() and not following[-1].isspace():
        return True
    words = (head[-2 * _SHORT:] + following).split()
    return len(words) > 2 and all(len(w) <= _SHORT for w in words[1:])


def _clip(matches: list[Match]) -> list[Match]:
    """A finding that began in text already sent is acted on from the cut onwards."""
    return [Match(m.kind, max(m.start, 0), m.end, m.score, m.detector) for m in matches]

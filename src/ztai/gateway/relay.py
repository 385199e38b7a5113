"""Relaying answers through the response stages. A stream is inspected event by event with a
bounded overlap window (never buffered whole); its last event is held back until the audit
event is committed, so a client that saw the end of a stream knows it was audited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

import orjson

from ztai.core.errors import StageFailed, UpstreamError
from ztai.core.flow import Flow, ResponseStage
from ztai.core.model import Decision
from ztai.gateway.answer import AnswerGuard, Blocked
from ztai.gateway.holdback import TextWindow
from ztai.gateway.plan import Plan, event_text
from ztai.gateway.toolcalls import CallHold, ToolCallPolicy
from ztai.gateway.trail import Trail
from ztai.upstream.interface import StreamEvent

WINDOW_CHARS = 256


class Finisher(Protocol):
    async def finish(self, trail: Trail, body: bytes | None) -> Any: ...

    def finish_later(self, trail: Trail) -> None: ...


class Relay:
    def __init__(self, plan: Plan, flow: Flow, stages: Sequence[ResponseStage], trail: Trail,
                 events: AsyncIterator[StreamEvent], first: StreamEvent,
                 guard: AnswerGuard | None = None, calls: ToolCallPolicy | None = None,
                 ) -> None:
        self._plan, self._flow, self._stages, self._trail = plan, flow, stages, trail
        self._events, self._first = events, first
        self._tail = ""
        self._guard, self._calls = guard, calls

    @classmethod
    async def open(cls, plan: Plan, flow: Flow, stages: Sequence[ResponseStage],
                   trail: Trail, guard: AnswerGuard | None = None,
                   calls: ToolCallPolicy | None = None) -> Relay:
        """Start the upstream stream; its errors before the first event surface here."""
        if plan.target is None or plan.call is None:
            raise StageFailed("stream without an upstream")
        events = aiter(plan.target.upstream.stream(plan.call))
        try:
            first = await anext(events)
        except StopAsyncIteration:
            raise UpstreamError("upstream ended the stream before any event",
                                code="upstream_bad_response") from None
        return cls(plan, flow, stages, trail, events, first, guard, calls)

    @staticmethod
    async def inspect_all(stages: Sequence[ResponseStage], flow: Flow, plan: Plan,
                          body: Mapping[str, Any], trail: Trail) -> Decision | None:
        text = "\n".join(t for _, t in plan.reader.pieces(body))
        for stage in stages:
            verdict = await stage.inspect(flow, text, True)
            if verdict is not None and not verdict.is_allow:
                return verdict
        return None

    async def _ready(self) -> AsyncIterator[StreamEvent]:
        """Upstream events as they may go out: tool calls the model proposes held back until
        they are complete and authorized (raises ``Blocked``)."""
        if self._calls is None:
            async for event in self._windowed():
                yield event
            return
        hold = CallHold()
        try:
            async for event in self._windowed():
                for ready in hold.push(event):
                    yield ready
                if hold.complete:
                    for ready in self._authorized(hold):
                        yield ready
            for ready in self._authorized(hold):
                yield ready
        except OverflowError as exc:
            raise Blocked(Decision.deny(f"{exc}; blocked to fail closed")) from None

    def _authorized(self, hold: CallHold) -> list[StreamEvent]:
        assert self._calls is not None  # noqa: S101  # only called with a policy
        if not hold.held:
            return []
        calls = hold.calls()
        if self._guard is not None and hold.interleaved:
            # the window read the stream in arrival order: the fragments of calls streamed at
            # once split each other's text, so a finding in one call was never whole there.
            # Each call's complete arguments are read again: what the rules would block or
            # redact there blocks (it cannot be cut out of the held fragments)
            for call in calls:
                self._guard.refuse_split(self._guard.detect(call.arguments))
        verdict = self._calls.check(self._flow, calls)
        if verdict is not None:
            raise Blocked(verdict)
        return hold.release()

    async def _windowed(self) -> AsyncIterator[StreamEvent]:
        """Through the hold-back window when the answer is guarded (raises ``Blocked``),
        else as they come. Several answers at once (a chat's ``n``) come interleaved, chunk
        by chunk: each is read through a window of its own, so that one's text never splits
        what another carries; an event of no answer (the usage, the end) waits until every
        window let its text go."""
        if self._guard is None:
            yield self._first
            async for event in self._events:
                yield event
            return
        answer_of = _answer_of if self._plan.choices > 1 else _the_answer
        windows: dict[int, TextWindow] = {}
        for ready in self._through(self._first, answer_of(self._first), windows, self._guard):
            yield ready
        async for event in self._events:
            for ready in self._through(event, answer_of(event), windows, self._guard):
                yield ready
        for window in windows.values():
            for ready in window.flush():
                yield ready

    def _through(self, event: StreamEvent, answer: int | None, windows: dict[int, TextWindow],
                 guard: AnswerGuard) -> list[StreamEvent]:
        if answer is None:
            return [*(ready for window in windows.values() for ready in window.flush()), event]
        window = windows.get(answer)
        if window is None:
            window = windows[answer] = TextWindow(self._plan.reader, guard)
        return window.push(event)

    async def chunks(self, finisher: Finisher) -> AsyncIterator[bytes]:
        committed = False
        events = aiter(self._ready())
        try:
            held = await anext(events)
            async for event in events:
                denied = await self._inspect(held, final=False)
                if denied is not None:
                    committed = True
                    yield await self._deny(finisher, denied)
                    return
                passed = self._pass(held)
                if passed:
                    yield passed
                held = event
            denied = await self._inspect(held, final=True)
            committed = True
            if denied is not None:
                yield await self._deny(finisher, denied)
                return
            self._note_usage(held)
            self._trail.status = 200
            if self._guard is not None:
                self._trail.response_label = self._guard.label()
            outcome = await finisher.finish(self._trail, b"")
            last = self._shown(held) if outcome.status == 200 else _error_event(outcome.body)
            if last:
                yield last
        except Blocked as blocked:
            committed = True
            yield await self._deny(finisher, blocked.decision)
        except UpstreamError as exc:
            self._trail.fail(exc)
            committed = True
            yield _error_event((await finisher.finish(self._trail, None)).body)
        finally:
            await _close(events)
            await _close(self._events)
            if not committed:
                self._trail.status = 499  # the client went away before the end
                finisher.finish_later(self._trail)

    async def _inspect(self, event: StreamEvent, final: bool) -> Decision | None:
        if not self._stages:
            return None
        text = event_text(self._plan.reader, event)
        window, self._tail = self._tail + text, (self._tail + text)[-WINDOW_CHARS:]
        for stage in self._stages:
            verdict = await stage.inspect(self._flow, window, final)
            if verdict is not None and not verdict.is_allow:
                return verdict
        return None

    async def _deny(self, finisher: Finisher, verdict: Decision) -> bytes:
        self._trail.decision, self._trail.status = verdict, 403
        return _error_event((await finisher.finish(self._trail, None)).body)

    def _pass(self, event: StreamEvent) -> bytes:
        self._note_usage(event)
        return self._shown(event)

    def _shown(self, event: StreamEvent) -> bytes:
        """The event as the client gets it; empty for a chunk that only carried the usage the
        client did not ask for."""
        data = event.data
        if not self._plan.hidden_usage or data is None or "usage" not in data:
            return encode_event(event)
        if data.get("choices") == []:
            return b""
        return encode_event(StreamEvent({k: v for k, v in data.items() if k != "usage"},
                                        event.event))

    def _note_usage(self, event: StreamEvent) -> None:
        if event.data is not None:
            usage = self._plan.reader.usage(event.data)
            if usage:
                self._trail.usage = usage


def _the_answer(event: StreamEvent) -> int:
    """One answer: every event, the end included, goes through its window."""
    return 0


def _answer_of(event: StreamEvent) -> int | None:
    """Which of several answers a chat chunk belongs to; None for a chunk of none. A chunk of
    two answers at once cannot be read answer by answer: it blocks (fail closed)."""
    choices = (event.data or {}).get("choices")
    if not isinstance(choices, list) or not choices:
        return None
    if len(choices) > 1:
        raise Blocked(Decision.deny("a stream chunk carries several answers at once; they "
                                    "cannot be checked answer by answer, blocked to fail "
                                    "closed"))
    index = choices[0].get("index") if isinstance(choices[0], dict) else None
    return index if isinstance(index, int) and not isinstance(index, bool) else 0


async def _close(events: AsyncIterator[StreamEvent]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


def encode_event(event: StreamEvent) -> bytes:
    if event.data is None:
        return b"data: [DONE]\n\n"
    head = f"event: {event.event}\n".encode() if event.event else b""
    return head + b"data: " + orjson.dumps(event.data) + b"\n\n"


def _error_event(error_json: bytes) -> bytes:
    return b"data: " + error_json + b"\n\n"

"""The built-in demo upstream: a deterministic, in-process simulated provider (no network) whose
replies say they are simulated. ``Trigger`` words in the last user message make it misbehave."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, assert_never

from ztai.core.clock import Clock, SystemClock
from ztai.core.errors import UpstreamError
from ztai.upstream.failure import error_for_status
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall, UpstreamReply
from ztai.upstream.model import SimulatorOptions
from ztai.upstream.simulated_chat import chat_chunks, chat_completion, chat_prompt
from ztai.upstream.simulated_embeddings import embeddings_list, embeddings_prompt
from ztai.upstream.simulated_responses import response_events, response_object, responses_prompt
from ztai.upstream.simulation import SimulatedFailure, Trigger, failure_for, find_trigger, invalid


class SimulatorUpstream:
    """Answers every call from the call alone (``created`` comes from the clock). Fails the way
    ``OpenAIUpstream`` does for the same provider reply: a malformed body → 400,
    ``[simulate:error500]`` → 502, ``[simulate:error429]`` → 429."""

    def __init__(self, options: SimulatorOptions | None = None,
                 clock: Clock | None = None) -> None:
        self._options = options or SimulatorOptions()
        self._clock = clock or SystemClock()
        self.name = self._options.name

    def __repr__(self) -> str:
        return f"SimulatorUpstream(name={self.name!r})"

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        try:
            trigger = triggered(call)
            body = reply_of(call, int(self._clock.now()))
        except SimulatedFailure as failure:
            raise self._error(failure) from None
        if trigger is Trigger.SLOW:
            await asyncio.sleep(self._options.slow_seconds)
        return UpstreamReply(status=200, body=body)

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        try:
            trigger = triggered(call)
            events = events_of(call, int(self._clock.now()))
        except SimulatedFailure as failure:
            raise self._error(failure) from None
        for index, event in enumerate(events):
            if index == 1 and trigger is Trigger.SLOW:
                await asyncio.sleep(self._options.slow_seconds)
            yield event

    async def aclose(self) -> None:
        return None

    def _error(self, failure: SimulatedFailure) -> UpstreamError:
        return error_for_status(failure.status, failure.content(), self.name, None)


def triggered(call: UpstreamCall) -> Trigger | None:
    """The call's trigger. Raises the ``SimulatedFailure`` that a malformed body or a failure
    trigger calls for."""
    trigger = find_trigger(prompt_of(call))
    failure = failure_for(trigger)
    if failure is not None:
        raise failure
    return trigger


def prompt_of(call: UpstreamCall) -> str:
    match call.endpoint:
        case Endpoint.CHAT:
            return chat_prompt(call.body)
        case Endpoint.RESPONSES:
            return responses_prompt(call.body)
        case Endpoint.EMBEDDINGS:
            return embeddings_prompt(call.body)
        case _:
            assert_never(call.endpoint)


def reply_of(call: UpstreamCall, created: int) -> dict[str, Any]:
    match call.endpoint:
        case Endpoint.CHAT:
            return chat_completion(call.body, created)
        case Endpoint.RESPONSES:
            return response_object(call.body, created)
        case Endpoint.EMBEDDINGS:
            return embeddings_list(call.body)
        case _:
            assert_never(call.endpoint)


def events_of(call: UpstreamCall, created: int) -> list[StreamEvent]:
    match call.endpoint:
        case Endpoint.CHAT:
            return chat_chunks(call.body, created)
        case Endpoint.RESPONSES:
            return response_events(call.body, created)
        case Endpoint.EMBEDDINGS:
            raise invalid("embeddings cannot be streamed")
        case _:
            assert_never(call.endpoint)

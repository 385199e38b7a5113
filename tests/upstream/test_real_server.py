"""OpenAIUpstream against real sockets: the simulator served by uvicorn on 127.0.0.1, a refused
port, and a server that stalls past the read timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ztai.core.errors import UpstreamError
from ztai.core.secret import Secret
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall
from ztai.upstream.model import OpenAIOptions, Timeouts
from ztai.upstream.openai import OpenAIUpstream

pytestmark = pytest.mark.anyio

SHORT = Timeouts(connect=2.0, read=0.2, write=2.0, pool=2.0, total=5.0)


def chat(text: str) -> UpstreamCall:
    return UpstreamCall(Endpoint.CHAT,
                        {"model": "sim", "messages": [{"role": "user", "content": text}]})


def upstream(url: str) -> OpenAIUpstream:
    return OpenAIUpstream(OpenAIOptions(name="sim", base_url=url, api_key=Secret("sk-x"),
                                        timeouts=SHORT))


async def test_chat_whole_and_streamed(simulator_url: str) -> None:
    client = upstream(simulator_url)
    try:
        reply = await client.send(chat("over a real socket"))
        events = [event async for event in client.stream(chat("over a real socket"))]
    finally:
        await client.aclose()
    text = reply.body["choices"][0]["message"]["content"]
    assert "simulated" in text
    assert events[-1] == StreamEvent(None)
    streamed = "".join(e.data["choices"][0]["delta"].get("content", "")
                       for e in events if e.data is not None)
    assert streamed == text


async def test_responses_and_embeddings(simulator_url: str) -> None:
    client = upstream(simulator_url)
    try:
        reply = await client.send(UpstreamCall(Endpoint.RESPONSES,
                                               {"model": "sim", "input": "hello"}))
        events = [e async for e in client.stream(UpstreamCall(
            Endpoint.RESPONSES, {"model": "sim", "input": "hello"}, stream=True))]
        vectors = await client.send(UpstreamCall(Endpoint.EMBEDDINGS,
                                                 {"model": "e", "input": ["a", "b"]}))
    finally:
        await client.aclose()
    assert reply.body["output"][0]["content"][0]["type"] == "output_text"
    assert events[0].event == "response.created"
    assert events[-1].event == "response.completed"
    assert [len(item["embedding"]) for item in vectors.body["data"]] == [16, 16]


async def test_a_provider_500_is_a_502(simulator_url: str) -> None:
    client = upstream(simulator_url)
    with pytest.raises(UpstreamError) as caught:
        await client.send(chat("[simulate:error500]"))
    await client.aclose()
    assert (caught.value.status, caught.value.code) == (502, "upstream_error")


async def test_a_refused_port_is_a_502(refused_url: str) -> None:
    client = upstream(refused_url)
    with pytest.raises(UpstreamError) as caught:
        await client.send(chat("hello"))
    await client.aclose()
    assert (caught.value.status, caught.value.code) == (502, "upstream_unavailable")


async def test_a_server_stalling_past_the_read_timeout_is_a_504(simulator_url: str) -> None:
    client = upstream(simulator_url)
    with pytest.raises(UpstreamError) as caught:
        await client.send(chat("[simulate:slow]"))
    await client.aclose()
    assert (caught.value.status, caught.value.code) == (504, "upstream_timeout")


async def test_a_stream_stalling_mid_way_is_a_504(simulator_url: str) -> None:
    client = upstream(simulator_url)
    received: list[StreamEvent] = []
    with pytest.raises(UpstreamError) as caught:
        await drain(client.stream(chat("[simulate:slow]")), received)
    await client.aclose()
    assert len(received) == 1
    assert (caught.value.status, caught.value.code) == (504, "upstream_timeout")


async def drain(events: AsyncIterator[StreamEvent], into: list[StreamEvent]) -> None:
    async for event in events:
        into.append(event)

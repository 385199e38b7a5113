"""The simulator app as the official ``openai`` SDK sees it: every reply and event must parse."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from ztai.upstream.simulator_app import MODELS, create_simulator_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[openai.AsyncOpenAI]:
    transport = httpx.ASGITransport(app=create_simulator_app())
    async with httpx.AsyncClient(transport=transport) as http:
        yield openai.AsyncOpenAI(base_url="http://simulator/v1", api_key="unused",
                                 http_client=http, max_retries=0)


async def test_sdk_parses_a_chat_completion(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="sim", messages=[{"role": "user", "content": "hello sdk"}])
    assert reply.system_fingerprint == "ztai-simulator"
    assert reply.choices[0].message.content is not None
    assert "simulated" in reply.choices[0].message.content
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 2


async def test_sdk_parses_a_streamed_chat_completion(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="sim", messages=[{"role": "user", "content": "hello sdk"}], stream=True,
        stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("[ztai simulator]")
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 2


async def test_sdk_parses_a_tool_call(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="sim", messages=[{"role": "user", "content": 'call tool f with {"x": 1}'}],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])
    (call,) = reply.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert (call.function.name, call.function.arguments) == ("f", '{"x":1}')


async def test_sdk_parses_a_response(client: openai.AsyncOpenAI) -> None:
    reply = await client.responses.create(model="sim", input="hello responses")
    assert reply.output_text.endswith('2 words: "hello responses"')
    assert reply.usage is not None
    assert reply.usage.input_tokens == 2


async def test_sdk_parses_streamed_response_events(client: openai.AsyncOpenAI) -> None:
    stream = await client.responses.create(model="sim", input="hello responses", stream=True)
    events = [event async for event in stream]
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == events[-1].response.output_text  # type: ignore[union-attr]


async def test_sdk_stream_helper_accumulates_the_response(client: openai.AsyncOpenAI) -> None:
    async with client.responses.stream(model="sim", input="hello helper") as stream:
        texts = [event.delta async for event in stream
                 if event.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(texts) == final.output_text
    assert "simulated" in final.output_text


async def test_sdk_decodes_base64_embeddings(client: openai.AsyncOpenAI) -> None:
    reply = await client.embeddings.create(model="e", input=["a", "b"])
    assert [len(item.embedding) for item in reply.data] == [16, 16]
    assert reply.usage.prompt_tokens == 2


async def test_sdk_lists_the_models(client: openai.AsyncOpenAI) -> None:
    models = await client.models.list()
    assert tuple(model.id for model in models.data) == MODELS


@pytest.mark.parametrize(("text", "error"), [
    ("[simulate:error500]", openai.InternalServerError),
    ("[simulate:error429]", openai.RateLimitError),
])
async def test_failure_triggers_are_http_errors(client: openai.AsyncOpenAI, text: str,
                                                error: type[Exception]) -> None:
    with pytest.raises(error):
        await client.chat.completions.create(model="sim",
                                             messages=[{"role": "user", "content": text}])


async def test_malformed_json_is_a_400() -> None:
    transport = httpx.ASGITransport(app=create_simulator_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as http:
        reply = await http.post("/v1/chat/completions", content=b"{nope")
        listed = await http.post("/v1/embeddings", content=b"[1]")
    assert reply.status_code == 400
    assert listed.status_code == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"

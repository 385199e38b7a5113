"""The official ``openai`` SDK, unmodified, against a running ztai."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.e2e.server import Server

OPEN: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:  # the SDK's httpx client keeps a socket until closed
        OPEN.pop().close()


def client(server: Server, who: str = "alice") -> openai.OpenAI:
    key = server.keys.get(who, "sk-not-a-ztai-key")
    made = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
    OPEN.append(made)
    return made


def test_chat(server: Server) -> None:
    reply = client(server).chat.completions.create(
        model="demo-chat", messages=[{"role": "user", "content": "Hello gateway"}])
    assert "simulated reply" in (reply.choices[0].message.content or "")
    assert reply.usage is not None
    assert reply.usage.total_tokens > 0


def test_chat_streamed_with_usage(server: Server) -> None:
    stream = client(server).chat.completions.create(
        model="demo-chat", messages=[{"role": "user", "content": "Stream please"}],
        stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "simulated reply" in text
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


def test_tool_calls_pass_through(server: Server) -> None:
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    reply = client(server).chat.completions.create(
        model="demo-chat", tools=tools,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "call tool get_weather for Paris"}])
    calls = reply.choices[0].message.tool_calls
    assert calls
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]


def test_responses(server: Server) -> None:
    response = client(server).responses.create(model="demo-chat", input="Hello responses")
    assert "simulated reply" in response.output_text


def test_responses_streamed(server: Server) -> None:
    events = list(client(server).responses.create(model="demo-chat", input="Hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert "simulated reply" in deltas


def test_embeddings(server: Server) -> None:
    result = client(server).embeddings.create(model="demo-embed", input=["a", "b"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) > 0


def test_models(server: Server) -> None:
    assert [m.id for m in client(server, "bob").models.list()] == ["demo-chat", "demo-embed"]


@pytest.mark.parametrize("who", ["nobody", "revoked", "expired"])
def test_unauthenticated_is_401(server: Server, who: str) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(server, who).chat.completions.create(
            model="demo-chat", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401


def test_no_credential_at_all_is_401(server: Server) -> None:
    response = httpx.post(server.base_url + "/v1/chat/completions", json={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_policy_deny_is_403_with_reason(server: Server) -> None:
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(server, "bob").chat.completions.create(
            model="demo-consumer-chat", messages=[{"role": "user", "content": "hi"}])
    assert "contractors may not send data to consumer-tier models" in caught.value.message


def test_bad_input_is_400(server: Server) -> None:
    with pytest.raises(openai.BadRequestError):
        client(server).chat.completions.create(
            model="demo-chat", messages=[{"role": "wizard", "content": "hi"}])  # type: ignore[misc]


def test_oversized_is_413(server: Server) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client(server).chat.completions.create(
            model="demo-chat", messages=[{"role": "user", "content": "x" * 2_000_000}])
    assert caught.value.status_code == 413

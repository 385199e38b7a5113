"""The hot tools/call without the SDK's per-request machinery, on both sides of ztai: answered on
ztai's endpoint exactly as the SDK server answers it (or handed to it), and sent to an HTTP
upstream stamped by the SDK client's session, read back as the SDK reads it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import HEADER_MISMATCH, METHOD_NOT_FOUND
from starlette.types import Receive, Scope, Send

from tests.gateway.harness import Harness, Options, auth, harness
from tests.mcpgw.servers import MailState, mail_server, serving, serving_app
from ztai.config.settings import McpServerSettings
from ztai.core.errors import UpstreamError
from ztai.gateway.mcp import hotpath, wire
from ztai.gateway.mcp.upstream import McpUpstream

pytestmark = pytest.mark.anyio

VERSION = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": VERSION,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy in the environment sends every call through the SDK client."""
    for scheme in ("http", "https", "all"):
        for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
            monkeypatch.delenv(name, raising=False)


@contextlib.asynccontextmanager
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[Harness, str]]:
    async with serving(mail_server(MailState())) as url:
        settings = McpServerSettings(name="mail", url=url)
        async with harness(tmp_path, Options(mcp=[settings])) as h, \
                serving_app(h.app) as base:
            yield h, base


def call(name: str, arguments: dict[str, Any] | None, request_id: Any = 7,
         meta: dict[str, Any] | None = META) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def headers(key: str, name: str = "read_inbox", **extra: str) -> dict[str, str]:
    return {**auth(key), "accept": "application/json, text/event-stream",
            "content-type": "application/json", "mcp-protocol-version": VERSION,
            "mcp-method": "tools/call", "mcp-name": name, **extra}


def comparable(answer: httpx2.Response) -> tuple[int, str, Any]:
    body = answer.json()
    meta = body.get("result", {}).get("_meta", {})
    meta.pop("ztai/exchange", None)  # a new exchange each time
    return answer.status_code, answer.headers["content-type"], body


CASES = [
    ("a call", call("read_inbox", {"limit": 1}), {}),
    ("a string id", call("read_inbox", {"limit": 2}, request_id="a-1"), {}),
    ("no arguments", call("read_inbox", None), {}),
    ("an unknown tool (refused by ztai)", call("nope", {}), {"mcp-name": "nope"}),
    ("a name header that disagrees", call("read_inbox", {}), {"mcp-name": "send_email"}),
    ("no envelope", call("read_inbox", {}, meta=None), {}),
    ("arguments of the wrong shape", call("read_inbox", {"limit": "many"}), {}),
    ("arguments that are no object", {**call("read_inbox", {}), "params": {
        "name": "read_inbox", "arguments": [1], "_meta": META}}, {}),
    ("a boolean id", call("read_inbox", {}, request_id=True), {}),
    ("another JSON-RPC version", {**call("read_inbox", {}), "jsonrpc": "1.0"}, {}),
    ("params that are no object", {**call("read_inbox", {}), "params": [1]}, {}),
    ("extra envelope members", {**call("read_inbox", {}), "extra": 1}, {}),
    # orjson reads an integer beyond 64 bits as a float (the hot path sent 1e+30 on) and does
    # not write one (the SDK path failed closed with an internal error): found by
    # test_hot_path_random.py
    ("an integer beyond 64 bits", call("read_inbox", {"limit": 10**30}), {}),
]


@pytest.mark.parametrize(("case", "body", "extra"), CASES, ids=[c[0] for c in CASES])
async def test_the_hot_path_answers_as_the_sdk_server_does(tmp_path: Path, case: str,
                                                           body: dict[str, Any],
                                                           extra: dict[str, str]) -> None:
    async with gateway(tmp_path) as (h, base), httpx2.AsyncClient() as http:
        front = h.app.mcp[0]
        sent = {**headers(h.keys["alice"]), **extra}
        raw = json.dumps(body).encode()  # integers beyond 64 bits too
        hot = await http.post(f"{base}/mcp/mail", content=raw, headers=sent)
        front.hot_calls = False
        sdk = await http.post(f"{base}/mcp/mail", content=raw, headers=sent)
        assert comparable(hot) == comparable(sdk)


async def test_only_qualifying_calls_skip_the_sdk_server(tmp_path: Path) -> None:
    async with gateway(tmp_path) as (h, base), httpx2.AsyncClient() as http:
        front = h.app.mcp[0]
        handled: list[str] = []
        sdk = front._manager.handle_request

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            handled.append(scope["method"])
            await sdk(scope, receive, send)

        front._manager.handle_request = counting
        url, key = f"{base}/mcp/mail", h.keys["alice"]
        answer = await http.post(url, content=orjson.dumps(call("read_inbox", {"limit": 1})),
                                 headers=headers(key))
        assert answer.status_code == 200
        assert "Q3 planning" in answer.json()["result"]["content"][0]["text"]
        assert h.last_event()["action"] == "call_tool"
        assert handled == []
        listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}}
        answer = await http.post(url, content=orjson.dumps(listing),
                                 headers=headers(key, **{"mcp-method": "tools/list"}))
        assert answer.status_code == 200
        assert handled == ["POST"]  # read, then replayed to the SDK
        answer = await http.post(url, content=b"{not json", headers=headers(key))
        assert answer.status_code == 400
        assert handled == ["POST", "POST"]


# --- the sender ------------------------------------------------------------------------------


class StubSession:
    """What the sender uses of the SDK's client session."""

    def __init__(self, version: str = VERSION) -> None:
        self.protocol_version = version
        self.validated: list[str] = []

    def _stamp(self, data: dict[str, Any], options: dict[str, Any]) -> None:
        data["params"]["_meta"] = META
        options.setdefault("headers", {}).update({"mcp-protocol-version": VERSION,
                                                  "mcp-method": data["method"]})

    async def validate_tool_result(self, name: str, result: Any) -> None:
        self.validated.append(name)


class Canned:
    """An HTTP server that answers each POST with the next canned reply."""

    def __init__(self, *replies: tuple[int, str, bytes]) -> None:
        self.replies = list(replies)
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.requests.append(({k.decode(): v.decode() for k, v in scope["headers"]},
                              orjson.loads(body)))
        status, kind, reply = self.replies.pop(0)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind.encode())]})
        await send({"type": "http.response.body", "body": reply})


def result(request_id: int = 1, **extra: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "result": {
        "content": [{"type": "text", "text": "hello"}], "isError": False, **extra}})


@contextlib.asynccontextmanager
async def sender(canned: Canned, session: StubSession | None = None
                 ) -> AsyncIterator[wire.ToolCallSender]:
    async with serving_app(canned) as base:
        made = wire.lean_sender(session or StubSession(), f"{base}/mcp",  # type: ignore[arg-type]
                                {"x-api-key": "k"}, 5.0, None)
        assert made is not None
        try:
            yield made
        finally:
            await made.aclose()


async def test_the_sender_writes_the_sdk_envelope_and_reads_json_and_sse() -> None:
    sse = (b": ping\r\n\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":"
           b"\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\r\n\r\n"
           b"event: message\r\ndata: " + result(2) + b"\r\n\r\n")
    canned = Canned((200, "application/json", result(1)), (200, "text/event-stream", sse))
    session = StubSession()
    async with sender(canned, session) as lean:
        first = await lean.call_tool("greet", {"who": "you"})
        second = await lean.call_tool("greet", None)
    assert [first.content[0].text, second.content[0].text] == ["hello", "hello"]  # type: ignore[union-attr]
    assert session.validated == ["greet", "greet"]
    sent_headers, sent = canned.requests[0]
    assert sent == {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "greet", "arguments": {"who": "you"}, "_meta": META}}
    assert "arguments" not in canned.requests[1][1]["params"]
    assert sent_headers["accept"] == "application/json, text/event-stream"
    assert sent_headers["content-type"] == "application/json"
    assert sent_headers["mcp-protocol-version"] == VERSION
    assert sent_headers["x-api-key"] == "k"


async def test_the_sender_raises_what_the_sdk_raises_or_fails_closed() -> None:
    def error(code: int, request_id: int | None) -> bytes:
        return orjson.dumps({"jsonrpc": "2.0", "id": request_id,
                             "error": {"code": code, "message": "no"}})

    canned = Canned((404, "application/json", error(METHOD_NOT_FOUND, 1)),
                    (400, "application/json", error(HEADER_MISMATCH, None)),
                    (200, "application/json", result(3, resultType="input_required")),
                    (500, "text/plain", b"boom"),
                    (200, "application/json", result(99)),  # another request's reply
                    (200, "application/json", b"[]"))
    async with sender(canned) as lean:
        with pytest.raises(MCPError) as raised:
            await lean.call_tool("greet", {})
        assert raised.value.code == METHOD_NOT_FOUND
        with pytest.raises(wire.HeaderMismatch):
            await lean.call_tool("greet", {})
        for _ in range(4):
            with pytest.raises(UpstreamError):
                await lean.call_tool("greet", {})


async def test_the_sdk_sends_what_the_sender_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = StubSession("2025-06-18")
    assert wire.lean_sender(legacy, "http://127.0.0.1:1/mcp", {}, 5.0,  # type: ignore[arg-type]
                            None) is None
    assert wire.lean_sender(StubSession(), "https://mcp.example/mcp", {}, 5.0,  # type: ignore[arg-type]
                            None) is not None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert wire.lean_sender(StubSession(), "https://mcp.example/mcp", {}, 5.0,  # type: ignore[arg-type]
                            None) is None


async def test_an_upstream_call_goes_lean_and_falls_back_on_a_header_mismatch() -> None:
    async with serving(mail_server(MailState())) as url:
        upstream = McpUpstream(McpServerSettings(name="mail", url=url))
        try:
            await upstream.list_tools()
            lean = upstream._sender
            assert lean is not None
            sent: list[str] = []
            real = lean.call_tool

            async def mismatched(name: str, arguments: dict[str, Any] | None) -> Any:
                sent.append(name)
                if len(sent) == 2:
                    raise wire.HeaderMismatch
                return await real(name, arguments)

            lean.call_tool = mismatched  # type: ignore[method-assign]
            first = await upstream.call_tool("read_inbox", {"limit": 1})
            second = await upstream.call_tool("read_inbox", {"limit": 1})  # through the SDK
            assert first.model_dump() == second.model_dump()
            assert sent == ["read_inbox", "read_inbox"]
        finally:
            await upstream.aclose()


async def test_a_body_read_for_nothing_is_replayed_whole() -> None:
    def feeder(*messages: dict[str, Any]) -> Receive:
        queue = list(messages)

        async def receive() -> Any:
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        return receive

    chunks = ({"type": "http.request", "body": b"ab", "more_body": True},
              {"type": "http.request", "body": b"cd", "more_body": False})
    body, read = await hotpath.read_body(feeder(*chunks), limit=10)
    assert body == b"abcd"
    replayed = hotpath.replay(read, feeder())
    assert [await replayed() for _ in range(3)] == [*chunks, {"type": "http.disconnect"}]
    body, read = await hotpath.read_body(feeder(*chunks), limit=3)  # too long: the SDK's 413
    assert body is None
    assert read == list(chunks)
    body, read = await hotpath.read_body(feeder(chunks[0]), limit=10)  # the client went away
    assert body is None
    assert read == [chunks[0], {"type": "http.disconnect"}]

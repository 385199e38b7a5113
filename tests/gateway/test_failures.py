"""Fail closed: broken stages, broken upstreams, bad input and a broken audit log each end in a
clean OpenAI-style error and (where the log works) exactly one audit event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.harness import Options, auth, chat, harness
from tests.upstream.fake_server import Reply, fake_upstream, refused_url
from ztai.core.errors import StoreUnavailable
from ztai.core.flow import Flow
from ztai.core.model import Decision
from ztai.storage.memory import MemoryAuditStore
from ztai.storage.model import ChainedEntry, Checkpoint
from ztai.upstream.model import OpenAIOptions, Timeouts
from ztai.upstream.openai import OpenAIUpstream

pytestmark = pytest.mark.anyio


class RaisingStage:
    name = "broken"

    async def run(self, flow: Flow) -> Decision | None:
        raise KeyError("bug in a detector")


class SleepingStage:
    name = "sleepy"

    async def run(self, flow: Flow) -> Decision | None:
        await asyncio.sleep(10)
        return None


class SyncRaisingStage(RaisingStage):
    name = "broken-sync"
    suspends = False  # run directly, without a timeout


class FalselySyncStage(SleepingStage):
    """Declares that it never suspends, and awaits: the pipeline must not let it through."""

    name = "falsely-sync"
    suspends = False


async def _chat_as_alice(options: Options, tmp_path: Path, **body: Any) -> tuple[Any, Any]:
    async with harness(tmp_path, options) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json=chat(**body))
        return response, h.events()


@pytest.mark.parametrize(("stage", "detail"), [(RaisingStage(), "KeyError"),
                                               (SleepingStage(), "timed out"),
                                               (SyncRaisingStage(), "KeyError"),
                                               (FalselySyncStage(), "RuntimeError")])
async def test_a_stage_that_fails_denies(tmp_path: Path, stage: Any, detail: str) -> None:
    async with harness(tmp_path, Options(before=[stage], stage_timeout_s=0.2)) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json=chat())
        event = h.last_event()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stage_failed"
    assert "traceback" not in response.text.lower()
    assert event["decision"]["effect"] == "deny"
    checks = {c["name"]: c for c in event["checks"]}
    assert checks[stage.name]["status"] == "error"
    assert detail in checks[stage.name]["detail"]
    assert checks["authorize"]["status"] == "not_run"
    assert checks["forward"]["status"] == "not_run"


class LeakyStage:
    """A bug whose exception quotes the request (``int()`` of a value, a ``KeyError``)."""

    name = "leaky"

    async def run(self, flow: Flow) -> Decision | None:
        try:
            int(flow.exchange.segments[0].text)
        except ValueError as exc:
            raise KeyError(flow.exchange.segments[0].text) from exc
        return None


async def test_a_broken_stage_is_logged_without_the_request(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Found 2026-11-28: the log took the exception with its message (a traceback), and a
    message may quote the request; where it failed is logged, not what."""
    secret = "my key is AKIAZ3MZQ7YWRT4XPLNV"
    with caplog.at_level("ERROR", logger="ztai"):
        response, _ = await _chat_as_alice(Options(before=[LeakyStage()]), tmp_path,
                                           text=secret)
    assert response.status_code == 503
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "check leaky failed" in logged
    assert "builtins.KeyError (message withheld)" in logged
    assert "builtins.ValueError (message withheld)" in logged  # the cause too
    assert "in run: int(flow.exchange.segments[0].text)" in logged
    assert "AKIAZ3MZQ7YWRT4XPLNV" not in logged


async def test_no_stage_that_authorizes_means_deny(tmp_path: Path) -> None:
    response, events = await _chat_as_alice(Options(authorize=False), tmp_path)
    assert response.status_code == 403
    assert "default deny" in response.json()["error"]["message"]
    assert events[-1]["decision"]["effect"] == "deny"


def _upstream(url: str, timeout: float = 5.0) -> OpenAIUpstream:
    options = OpenAIOptions(name="flaky", base_url=url,
                            timeouts=Timeouts(connect=timeout, read=timeout, total=timeout))
    return OpenAIUpstream(options)


UPSTREAM_FAILURES = [
    ("down", None, 502, "upstream_unavailable"),
    ("slow", Reply.json({}, delay=1.0), 504, "upstream_timeout"),
    ("5xx", Reply(500, b'{"error": {"message": "boom"}}'), 502, "upstream_error"),
    ("garbage", Reply(200, b"<html>not json"), 502, "upstream_bad_response"),
    ("not-an-object", Reply(200, b"[1, 2]"), 502, "upstream_bad_response"),
]


@contextlib.asynccontextmanager
async def _upstream_url(reply: Reply | None) -> AsyncIterator[str]:
    """A fake upstream that always answers ``reply``; None: a port that refuses connections."""
    if reply is None:
        with refused_url() as url:
            yield url
        return
    async with fake_upstream(lambda request: reply) as server:
        yield server.url


@pytest.mark.parametrize(("name", "reply", "status", "code", "stream"), [
    (*case, stream) for case in UPSTREAM_FAILURES for stream in (False, True)
    if not (stream and case[0] == "not-an-object")  # a stream has no body shape to check
])
async def test_upstream_failures_are_clean_errors(tmp_path: Path, name: str, reply: Reply | None,
                                                  status: int, code: str, stream: bool) -> None:
    async with _upstream_url(reply) as url:
        response, events = await _chat_as_alice(Options(upstream=_upstream(url, 0.2)), tmp_path,
                                                stream=stream)
    assert response.status_code == status, response.text
    assert code in response.text
    assert len(events) == 1
    assert events[0]["error"].startswith(code)
    checks = {c["name"]: c["status"] for c in events[0]["checks"]}
    assert checks["authorize"] == "passed"


async def test_upstream_timeout_for_real(tmp_path: Path) -> None:
    async with fake_upstream(lambda request: Reply.json({}, delay=5.0)) as server:
        response, events = await _chat_as_alice(Options(upstream=_upstream(server.url, 0.2)),
                                                tmp_path)
    assert response.status_code == 504
    assert events[0]["status"] == 504


BAD_INPUT = [
    (b"{not json", 400, "invalid_request_error"),
    (b"\xff\xfe{}", 400, "invalid_request_error"),
    (b'"just a string"', 400, "invalid_request_error"),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', 400, "invalid_request_error"),
    (b'{"model": "demo-chat"}', 400, "invalid_request_error"),
    (b'{"model": "demo-chat", "messages": []}', 400, "invalid_request_error"),
    (b'{"model": 5, "messages": [{"role": "user", "content": "hi"}]}', 400,
     "invalid_request_error"),
    (b'{"model": "demo-chat", "messages": [{"role": "wizard", "content": "hi"}]}', 400,
     "invalid_request_error"),
    (b'{"model": "demo-chat", "messages": [{"role": "user", "content": 7}]}', 400,
     "invalid_request_error"),
    (b'{"model": "demo-chat", "stream": "yes", "messages": [{"role": "user", "content": "x"}]}',
     400, "invalid_request_error"),
    # tools of another type than an array (found by fuzzing: a number was a 503 "internal
    # error", len() of a float)
    (b'{"model": "demo-chat", "tools": 1.5, "messages": [{"role": "user", "content": "x"}]}',
     400, "invalid_request_error"),
    (b'{"model": "demo-chat", "tools": "f", "messages": [{"role": "user", "content": "x"}]}',
     400, "invalid_request_error"),
    (b'{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}', 404,
     "model_not_found"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_INPUT)
async def test_bad_input_gets_a_clear_4xx(tmp_path: Path, body: bytes, status: int,
                                          code: str) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", content=body,
                                       headers={**auth(h.keys["alice"]),
                                                "content-type": "application/json"})
        events = h.events()
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert len(events) == 1
    assert events[0]["status"] == status
    assert events[0]["decision"]["effect"] == "deny"


async def test_oversized_body_is_413(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        big = chat(text="x" * 100_000)
        response = await h.client.post("/v1/chat/completions", json=big,
                                       headers=auth(h.keys["alice"]))
        event = h.last_event()
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert event["status"] == 413


async def test_unauthenticated_requests_never_read_the_body(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", content=b"\xff" * 100_000)
    assert response.status_code == 401  # not 400 or 413: the body was never looked at


class FailingAuditStore(MemoryAuditStore):
    def append(self, entries: Sequence[ChainedEntry], checkpoint: Checkpoint | None) -> None:
        raise StoreUnavailable("disk full")


@pytest.mark.parametrize("stream", [False, True])
async def test_no_answer_without_a_committed_audit_event(tmp_path: Path, stream: bool) -> None:
    response, events = await _chat_as_alice(Options(audit=FailingAuditStore()), tmp_path,
                                            stream=stream)
    assert events == []
    assert "simulated reply" not in response.text or stream
    assert "audit_unavailable" in response.text
    if stream:
        assert "[DONE]" not in response.text
    else:
        assert response.status_code == 503


class WordBlocker:
    name = "blocker"

    async def inspect(self, flow: Flow, text: str, final: bool) -> Decision | None:
        return Decision.deny("response mentions 'simulated'") if "simulated" in text else None


@pytest.mark.parametrize("stream", [False, True])
async def test_a_response_stage_can_deny(tmp_path: Path, stream: bool) -> None:
    response, events = await _chat_as_alice(Options(response_stages=[WordBlocker()]), tmp_path,
                                            stream=stream)
    assert "response mentions 'simulated'" in response.text
    assert "[DONE]" not in response.text
    assert events[-1]["decision"]["effect"] == "deny"
    assert events[-1]["status"] == 403
    if not stream:
        assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "status", "allow"), [
    ("GET", "/v1/nope", 404, None),
    ("POST", "/v2/chat/completions", 404, None),
    ("GET", "/v1/chat/completions", 405, "POST"),
    ("DELETE", "/v1/models", 405, "GET"),
    ("POST", "/healthz", 405, "GET, HEAD"),
    ("PUT", "/mcp/mail", 404, None),  # no such MCP server here
])
async def test_an_unserved_path_or_method_goes_through_the_pipeline(
        tmp_path: Path, method: str, path: str, status: int, allow: str | None) -> None:
    """Before 2026-11-28 Starlette answered these with a plain-text 404, unaudited."""
    async with harness(tmp_path) as h:
        anonymous = await h.client.request(method, path)
        anonymous_event = h.last_event()
        response = await h.client.request(method, path, headers=auth(h.keys["alice"]))
        event = h.last_event()
    assert anonymous.status_code == 401  # nothing said about which paths exist
    assert (anonymous_event["route"], anonymous_event["status"]) == ("unknown", 401)
    assert response.status_code == status
    assert response.headers.get("allow") == allow
    error = response.json()["error"]
    assert error["code"] == ("not_found" if status == 404 else "method_not_allowed")
    assert path in error["message"]
    assert (event["route"], event["status"], event["principal"]) == ("unknown", status, "alice")
    assert response.headers["x-ztai-exchange-id"] == event["id"]


async def test_operational_routes_and_the_admin_api_keep_their_own_answers(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        health = await h.client.get("/healthz")
        admin = await h.client.get("/admin/nope", headers=auth(h.keys["admin"]))
    assert health.status_code == 200
    assert admin.status_code == 400
    assert "no admin endpoint GET /admin/nope" in admin.json()["error"]["message"]

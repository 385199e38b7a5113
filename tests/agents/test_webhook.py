"""The approval webhook against a real server on 127.0.0.1: the signed notice, retries on
transient failures only, bounded time, and a failure that is recorded, never fatal to the hold."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tests.upstream.fake_server import Handler, Reply, Request, fake_upstream, refused_url
from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import new_held_call
from ztai.agents.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    NotifyFailed,
    WebhookNotifier,
    WebhookOptions,
    is_signed,
    sign,
)
from ztai.core.clock import FixedClock
from ztai.core.secret import Secret
from ztai.storage.memory import MemoryApprovalStore
from ztai.storage.model import HeldCall, HeldStatus

pytestmark = pytest.mark.anyio
SECRET = Secret("whsec-test-0123456789")


def _call(clock: FixedClock) -> HeldCall:
    return new_held_call(("user:alice", "agent:mailbot"), "call_tool", "mail/send_email",
                         {"tool": "send_email", "destinations": "x@outside.example"},
                         clock.now(), 120)


@contextlib.asynccontextmanager
async def _hooked(handler: Handler, clock: FixedClock, suffix: str = "", **options: Any
                  ) -> AsyncIterator[WebhookNotifier]:
    """A notifier posting to a real server on 127.0.0.1 that answers with ``handler``."""
    async with fake_upstream(handler) as server, \
            _notifier(server.url + suffix, clock, **options) as notifier:
        yield notifier


@contextlib.asynccontextmanager
async def _notifier(url: str, clock: FixedClock, **options: Any
                    ) -> AsyncIterator[WebhookNotifier]:
    notifier = WebhookNotifier(WebhookOptions(url, SECRET, "https://ztai.corp.example/",
                                              backoff_s=0.01, **options), clock)
    try:
        yield notifier
    finally:
        await notifier.aclose()


def _replies(*statuses: int) -> tuple[list[Request], Handler]:
    seen: list[Request] = []
    answers = itertools.chain(statuses, itertools.repeat(statuses[-1]))

    def handler(request: Request) -> Reply:
        seen.append(request)
        return Reply(next(answers))

    return seen, handler


async def test_the_notice_is_signed_json_with_approve_and_deny_links() -> None:
    clock = FixedClock()
    call = _call(clock)
    seen, handler = _replies(204)
    async with _hooked(handler, clock, "/hook") as notifier:
        await notifier(call)
    [request] = seen
    assert (request.method, request.target) == ("POST", "/v1/hook")
    assert request.headers["content-type"] == "application/json"
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert timestamp == str(int(clock.now()))
    assert is_signed(SECRET, timestamp, request.body, request.headers[SIGNATURE_HEADER],
                     clock.now())
    links = f"https://ztai.corp.example/admin/approvals/{call.id}"
    assert request.json() == {
        "id": call.id, "principal": "agent:mailbot", "chain": ["user:alice", "agent:mailbot"],
        "action": "call_tool", "resource": "mail/send_email",
        "summary": {"tool": "send_email", "destinations": "x@outside.example"},
        "expires_at": call.expires_at, "approve_url": f"{links}/approve",
        "deny_url": f"{links}/deny"}
    assert SECRET.reveal().encode() not in request.body


async def test_a_transient_failure_is_retried() -> None:
    clock = FixedClock()
    seen, handler = _replies(503, 502, 200)
    async with _hooked(handler, clock, retries=2) as notifier:
        await notifier(_call(clock))
    assert len(seen) == 3
    assert len({r.body for r in seen}) == 1


async def test_a_refusal_is_not_retried_and_fails_without_naming_the_url() -> None:
    clock = FixedClock()
    seen, handler = _replies(401)
    async with _hooked(handler, clock, "?token=abc", retries=3) as notifier:
        with pytest.raises(NotifyFailed, match="status 401") as failed:
            await notifier(_call(clock))
    assert len(seen) == 1
    assert "127.0.0.1" not in failed.value.message
    assert "abc" not in failed.value.message


async def test_retries_are_bounded_and_then_fail() -> None:
    clock = FixedClock()
    seen, handler = _replies(500)
    async with _hooked(handler, clock, retries=2) as notifier:
        with pytest.raises(NotifyFailed, match="status 500"):
            await notifier(_call(clock))
    assert len(seen) == 3


async def test_an_unreachable_or_slow_webhook_fails_in_bounded_time() -> None:
    clock = FixedClock()
    with refused_url() as url:
        async with _notifier(url, clock, retries=1) as notifier:
            with pytest.raises(NotifyFailed, match="ConnectError"):
                await notifier(_call(clock))

    def slow(request: Request) -> Reply:
        return Reply(200, delay=2.0)

    async with _hooked(slow, clock, retries=0, timeout_s=0.1) as notifier:
        with pytest.raises(NotifyFailed, match="ReadTimeout"):
            await notifier(_call(clock))


async def test_a_failing_webhook_leaves_the_call_held_with_the_failure_noted() -> None:
    clock = FixedClock()
    _seen, handler = _replies(500)
    async with _hooked(handler, clock, retries=0) as notifier:
        queue = ApprovalQueue(MemoryApprovalStore(), clock, notifier)
        call = await queue.hold(_call(clock))
    assert call.status is HeldStatus.PENDING
    assert call.notify_error == f"approval webhook failed for held call {call.id}: status 500"
    assert queue.pending() == [call]


def test_a_receiver_accepts_only_a_fresh_untampered_signature() -> None:
    body, now = orjson.dumps({"id": "h-1"}), 1_750_000_000.0
    stamp = str(int(now))
    good = sign(SECRET, stamp, body)
    assert good.startswith("sha256=")
    assert is_signed(SECRET, stamp, body, good, now)
    assert not is_signed(SECRET, stamp, body + b" ", good, now)
    assert not is_signed(Secret("another"), stamp, body, good, now)
    assert not is_signed(SECRET, stamp, body, good, now + 301)  # replayed later
    assert not is_signed(SECRET, "soon", body, good, now)
    old = str(int(now) - 1000)
    assert not is_signed(SECRET, old, body, sign(SECRET, old, body), now)


async def test_the_notifier_uses_the_client_it_is_given() -> None:
    clock = FixedClock()
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    notifier = WebhookNotifier(WebhookOptions("http://hooks.test/x", SECRET), clock, client)
    await notifier(_call(clock))
    await notifier.aclose()
    assert [str(r.url) for r in seen] == ["http://hooks.test/x"]
    assert client.is_closed

"""``/admin/approvals`` and the kill switch through the admin API: listed, read, approved and
denied by an admin with a reason (the waiting call wakes at once), never by an agent; every
call an audited exchange; an agent killed is refused from its very next request."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway import jwk_samples
from tests.gateway.harness import Harness, Options, auth, chat, harness
from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import new_held_call
from ztai.core.clock import FixedClock
from ztai.core.model import PrincipalKind
from ztai.identity.apikey import KeySpec, issue_key
from ztai.storage.memory import MemoryApprovalStore
from ztai.storage.model import HeldCall, HeldStatus

pytestmark = pytest.mark.anyio
CHAIN = ("user:alice", "agent:mailbot")


def _queue() -> ApprovalQueue:
    return ApprovalQueue(MemoryApprovalStore(), FixedClock(), poll_s=60.0)


async def _hold(queue: ApprovalQueue, *chain: str) -> HeldCall:
    return await queue.hold(new_held_call(chain or CHAIN, "call_tool", "mail/send_email",
                                          {"tool": "send_email", "server": "mail"},
                                          1_750_000_000.0, 120))


async def _admin(h: Harness, method: str, path: str, body: Any = None,
                 who: str = "admin") -> httpx.Response:
    return await h.client.request(method, path, headers=auth(h.keys[who]), json=body)


async def test_an_admin_approves_a_held_call_and_the_waiting_call_wakes(tmp_path: Path) -> None:
    queue = _queue()
    async with harness(tmp_path, Options(approvals=queue)) as h:
        held = await _hold(queue)
        waiting = asyncio.create_task(queue.wait(held.id, timeout_s=30))
        listing = await _admin(h, "GET", "/admin/approvals")
        one = await _admin(h, "GET", f"/admin/approvals/{held.id}")
        approved = await _admin(h, "POST", f"/admin/approvals/{held.id}/approve",
                                {"reason": "expected newsletter"})
        async with asyncio.timeout(2.0):
            final = await waiting
        event = h.last_event()
    assert listing.status_code == 200
    assert [c["id"] for c in listing.json()["data"]] == [held.id]
    assert one.json() == {
        "id": held.id, "principal": "agent:mailbot", "chain": list(CHAIN),
        "action": "call_tool", "resource": "mail/send_email",
        "summary": {"tool": "send_email", "server": "mail"}, "created_at": held.created_at,
        "expires_at": held.expires_at, "status": "pending", "decided_by": None,
        "decided_at": None, "reason": "", "notify_error": ""}
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "user:root")
    assert (final.status, final.decided_by, final.reason) == (
        HeldStatus.APPROVED, "user:root", "expected newsletter")
    assert (event["route"], event["principal"], event["decision"]["effect"]) == (
        "admin.approvals.approve", "root", "allow")
    assert event["details"] == {"operation": "approvals.approve", "target": held.id,
                                "held_id": held.id, "subject": "agent:mailbot",
                                "resource": "mail/send_email", "status": "approved"}


async def test_a_denial_needs_a_reason_and_comes_only_once(tmp_path: Path) -> None:
    queue = _queue()
    async with harness(tmp_path, Options(approvals=queue)) as h:
        held = await _hold(queue)
        no_reason = await _admin(h, "POST", f"/admin/approvals/{held.id}/deny", {})
        refused_event = h.last_event()
        denied = await _admin(h, "POST", f"/admin/approvals/{held.id}/deny",
                              {"reason": "exfiltration"})
        again = await _admin(h, "POST", f"/admin/approvals/{held.id}/approve",
                             {"reason": "changed my mind"})
        unknown = await _admin(h, "GET", "/admin/approvals/h-nope")
        pending = await _admin(h, "GET", "/admin/approvals")
        everything = await _admin(h, "GET", "/admin/approvals?status=all")
        denied_only = await _admin(h, "GET", "/admin/approvals?status=denied")
        bogus = await _admin(h, "GET", "/admin/approvals?status=maybe")
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["param"] == "reason"
    assert (refused_event["route"], refused_event["status"]) == ("admin.approvals.deny", 400)
    assert denied.json()["status"] == "denied"
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "held_call_closed"
    assert "already denied" in again.json()["error"]["message"]
    assert unknown.json()["error"]["code"] == "held_call_not_found"
    assert pending.json()["data"] == []
    assert [c["status"] for c in everything.json()["data"]] == ["denied"]
    assert [c["id"] for c in denied_only.json()["data"]] == [held.id]
    assert (bogus.status_code, bogus.json()["error"]["param"]) == (400, "status")
    assert queue.get(held.id).reason == "exfiltration"


async def test_an_agent_never_decides_a_held_call_even_as_an_admin(tmp_path: Path) -> None:
    queue = _queue()
    async with harness(tmp_path, Options(approvals=queue)) as h:
        key, _ = issue_key(h.key_store, KeySpec("opsbot", PrincipalKind.AGENT,
                                                frozenset({"admins"})), h.clock)
        held = await _hold(queue)
        response = await h.client.post(f"/admin/approvals/{held.id}/approve",
                                       headers=auth(key.reveal()), json={"reason": "lgtm"})
    assert response.status_code == 400
    assert "decided by people" in response.json()["error"]["message"]
    assert queue.get(held.id).status is HeldStatus.PENDING


async def test_without_an_approval_queue_the_endpoints_say_so(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await _admin(h, "GET", "/admin/approvals")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "approvals_not_configured"


async def test_killing_an_agent_refuses_its_next_request_and_denies_its_held_calls(
        tmp_path: Path) -> None:
    queue = _queue()
    async with harness(tmp_path, Options(approvals=queue)) as h:
        await _admin(h, "POST", "/admin/agents", {
            "agent_id": "mailbot", "sponsor": "alice", "allowed_models": ["demo-chat"],
            "public_jwk": jwk_samples.ed25519_public()})
        key, record = issue_key(h.key_store, KeySpec("mailbot", PrincipalKind.AGENT,
                                                     frozenset({"staff"})), h.clock)
        before = await h.client.post("/v1/chat/completions", headers=auth(key.reveal()),
                                     json=chat())
        held = await _hold(queue)
        other = await _hold(queue, "user:bob", "agent:helper")
        killed = await _admin(h, "POST", "/admin/agents/mailbot/kill",
                              {"reason": "prompt injection in inbox"})
        event = h.last_event()
        after = await h.client.post("/v1/chat/completions", headers=auth(key.reveal()),
                                    json=chat())
        again = await _admin(h, "POST", "/admin/agents/mailbot/kill", {"reason": "again"})
        ghost = await _admin(h, "POST", "/admin/agents/ghost/kill", {"reason": "typo"})
        no_reason = await _admin(h, "POST", "/admin/agents/mailbot/kill", {})
        agent = h.control.get_agent("mailbot")
        stored_key = h.key_store.get_key(record.key_id)
    assert before.status_code == 200
    assert killed.status_code == 200, killed.text
    assert killed.json() == {"agent_id": "mailbot", "changed": True, "revoked": True,
                             "disabled": True, "keys_revoked": [record.key_id],
                             "held_denied": [held.id]}
    assert (event["route"], event["details"]["target"], event["details"]["held_denied"]) == (
        "admin.agents.kill", "mailbot", 1)
    assert after.status_code == 401
    assert queue.get(held.id).status is HeldStatus.DENIED
    assert queue.get(other.id).status is HeldStatus.PENDING
    assert agent is not None
    assert agent.disabled
    assert stored_key is not None
    assert stored_key.revoked_at is not None
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert ghost.status_code == 400
    assert no_reason.json()["error"]["param"] == "reason"

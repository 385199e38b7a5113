"""The kill switch over memory stores: revoked, disabled, keys revoked, held calls it is part of
denied (waiters woken), the rest untouched; a second kill changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import new_held_call
from ztai.agents.kill import KillSwitch
from ztai.core.clock import FixedClock
from ztai.core.errors import BadRequest
from ztai.core.model import PrincipalKind
from ztai.storage.memory import MemoryApprovalStore, MemoryControlStore, MemoryKeyStore
from ztai.storage.model import AgentRecord, HeldStatus, KeyRecord, Revocation, RevocationKind

pytestmark = pytest.mark.anyio


class World:
    def __init__(self) -> None:
        self.clock = FixedClock()
        self.control, self.keys = MemoryControlStore(), MemoryKeyStore()
        self.queue = ApprovalQueue(MemoryApprovalStore(), self.clock, poll_s=60.0)
        self.switch = KillSwitch(self.control, self.keys, self.queue, self.clock)

    def key(self, key_id: str, principal: str, kind: PrincipalKind) -> None:
        self.keys.put_key(KeyRecord(key_id, "hash", principal, kind))

    async def hold(self, *chain: str) -> str:
        call = new_held_call(chain, "call_tool", "mail/send_email", {}, self.clock.now(), 60)
        return (await self.queue.hold(call)).id


async def test_killing_an_agent_stops_it_everywhere() -> None:
    w = World()
    w.control.put_agent(AgentRecord("mailbot", "alice", {"kty": "OKP"}, frozenset()))
    w.key("k1", "mailbot", PrincipalKind.AGENT)
    w.key("k2", "mailbot", PrincipalKind.AGENT)
    w.key("k3", "mailbot", PrincipalKind.USER)  # a person who happens to share the name
    w.key("k4", "helper", PrincipalKind.AGENT)
    own = await w.hold("agent:mailbot")
    delegated = await w.hold("user:alice", "agent:mailbot", "agent:helper")  # it is in the chain
    other = await w.hold("user:alice", "agent:helper")
    waiting = asyncio.create_task(w.queue.wait(own, timeout_s=30))
    await asyncio.sleep(0.01)

    report = await asyncio.to_thread(w.switch.kill, "mailbot", "prompt injection", "user:sec")
    async with asyncio.timeout(2.0):
        woken = await waiting

    assert (report.revoked, report.disabled, report.changed) == (True, True, True)
    assert sorted(report.keys_revoked) == ["k1", "k2"]
    assert {c.id for c in report.held_denied} == {own, delegated}
    assert (woken.status, woken.decided_by) == (HeldStatus.DENIED, "user:sec")
    assert woken.reason == "agent:mailbot was stopped: prompt injection"
    assert w.control.revocations() == [Revocation(RevocationKind.AGENT, "mailbot",
                                                  w.clock.now(), None, "prompt injection",
                                                  "user:sec")]
    agent = w.control.get_agent("mailbot")
    assert agent is not None
    assert agent.disabled
    assert {k.key_id for k in w.keys.list_keys() if k.revoked_at is not None} == {"k1", "k2"}
    assert [c.id for c in w.queue.pending()] == [other]


async def test_a_second_kill_changes_nothing_and_says_so() -> None:
    w = World()
    w.control.put_agent(AgentRecord("mailbot", "alice", {"kty": "OKP"}, frozenset()))
    w.key("k1", "mailbot", PrincipalKind.AGENT)
    first = w.switch.kill("mailbot", "compromised", "user:sec")
    version = w.control.control_version()
    w.clock.advance(5)
    again = w.switch.kill("mailbot", "still compromised", "user:sec")
    assert first.changed
    assert not again.changed
    assert (again.revoked, again.disabled, again.keys_revoked, again.held_denied) == (
        False, False, (), ())
    assert w.control.control_version() == version
    assert w.control.revocations()[0].reason == "compromised"  # the first kill's record stays


async def test_an_agent_known_only_by_its_keys_is_stopped_too() -> None:
    w = World()
    w.key("k1", "ci-agent", PrincipalKind.AGENT)
    report = w.switch.kill("ci-agent", "leaked key", "service:soar")
    assert (report.revoked, report.disabled, report.keys_revoked) == (True, False, ("k1",))


async def test_a_kill_needs_a_known_agent_a_reason_and_not_an_agent() -> None:
    w = World()
    w.key("k1", "mailbot", PrincipalKind.AGENT)
    with pytest.raises(BadRequest, match="no agent 'ghost'"):
        w.switch.kill("ghost", "typo?", "user:sec")
    with pytest.raises(BadRequest, match="reason"):
        w.switch.kill("mailbot", " ", "user:sec")
    with pytest.raises(BadRequest, match="an agent cannot stop"):
        w.switch.kill("mailbot", "rogue", "agent:helper")
    assert w.control.revocations() == []
    assert all(k.revoked_at is None for k in w.keys.list_keys())


async def test_without_a_queue_the_rest_still_happens() -> None:
    w = World()
    w.control.put_agent(AgentRecord("mailbot", "alice", {"kty": "OKP"}, frozenset()))
    report = KillSwitch(w.control, w.keys, None, w.clock).kill("mailbot", "x", "user:sec")
    assert (report.revoked, report.disabled, report.held_denied) == (True, True, ())

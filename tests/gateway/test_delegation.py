"""Agents and delegation end to end: an agent gets its own token with a client assertion and
an on-behalf-of token by token exchange; acting for Alice it gets neither more than Alice nor
more than itself; the chain is in every audit event; revocation applies on the next request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gateway.harness import Harness, Options, auth, chat, harness
from ztai.policy.bundled import starter_policies
from ztai.storage.model import AgentRecord, Revocation, RevocationKind

pytestmark = pytest.mark.anyio

AGENT_POLICY = """
@id("agents-use-models")
@reason("registered agents may use models (their tokens narrow this further)")
permit (principal in Group::"agents", action == Action::"invoke_model", resource);

@id("mfa-for-consumer")
@reason("consumer-tier models need multi-factor authentication")
@obligation("step_up")
@acr_values("urn:ztai:mfa")
forbid (principal, action == Action::"invoke_model", resource)
when { resource.tier == "consumer" }
unless { context has mfa && context.mfa };
"""
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _options() -> Options:
    return Options(policy_texts={**starter_policies(), "20-agents.cedar": AGENT_POLICY})


def _register(h: Harness, models: set[str]) -> None:
    h.control.put_agent(AgentRecord("mailbot", "alice", h.kit.agent_public_jwk(),
                                    frozenset(models), frozenset({"agents"}),
                                    created_at=h.clock.now()))


async def _token(h: Harness, form: dict[str, str]) -> Any:
    return await h.client.post("/oauth2/token", data=form)


async def _exchange(h: Harness, subject: str, scope: str | None = None) -> Any:
    form = {"grant_type": EXCHANGE, "subject_token": subject,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "actor_token": h.kit.assertion("mailbot"),
            "actor_token_type": "urn:ietf:params:oauth:token-type:jwt"}
    return await _token(h, {**form, **({"scope": scope} if scope else {})})


async def test_own_token_and_replay(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        _register(h, {"demo-chat"})
        assertion = h.kit.assertion("mailbot")
        form = {"grant_type": "client_credentials", "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        first = await _token(h, form)
        replayed = await _token(h, form)
        token = first.json()["access_token"]
        used = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
        outside = await h.client.post("/v1/chat/completions", json=chat("demo-consumer-chat"),
                                      headers=auth(token))
        events = h.events()
    assert first.status_code == 200, first.text
    assert first.json()["token_type"] == "Bearer"
    assert first.json()["scope"] == "demo-chat"
    assert replayed.status_code == 401  # client authentication failed (RFC 6749 5.2)
    assert replayed.json()["error"] == "invalid_client"
    assert used.status_code == 200
    assert outside.status_code == 403
    assert "does not cover model 'demo-consumer-chat'" in outside.json()["error"]["message"]
    assert events[0]["route"] == "oauth.token"
    assert events[0]["principal"] == "mailbot"
    assert token not in str(events)  # the token itself is never audited
    assert events[0]["details"]["jti"]


async def test_acting_for_a_user_is_bounded_by_both(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        _register(h, {"demo-chat", "demo-consumer-chat"})
        alice = h.kit.idp_token("alice", ["staff"], amr=["pwd", "otp"])
        bob = h.kit.idp_token("bob", ["staff", "contractors"], amr=["pwd", "otp"])
        for_alice = (await _exchange(h, alice)).json()["access_token"]
        for_bob = (await _exchange(h, bob)).json()["access_token"]
        ok = await h.client.post("/v1/chat/completions", json=chat("demo-consumer-chat"),
                                 headers=auth(for_alice))
        bob_cannot = await h.client.post("/v1/chat/completions",
                                         json=chat("demo-consumer-chat"), headers=auth(for_bob))
        agent_cannot = await h.client.post("/v1/embeddings", headers=auth(for_alice),
                                           json={"model": "demo-embed", "input": "x"})
        alice_can = await h.client.post("/v1/embeddings", headers=auth(alice),
                                        json={"model": "demo-embed", "input": "x"})
        events = h.events()
    assert ok.status_code == 200, ok.text
    assert bob_cannot.status_code == 403
    assert "user 'bob'" in bob_cannot.json()["error"]["message"]
    assert agent_cannot.status_code == 403
    assert "does not cover model 'demo-embed'" in agent_cannot.json()["error"]["message"]
    assert alice_can.status_code == 200
    chat_event = next(e for e in events if e["route"] == "chat.completions")
    assert chat_event["delegation"] == ["user:alice", "agent:mailbot"]
    assert chat_event["principal"] == "mailbot"
    assert chat_event["auth_method"] == "agent_token"


async def test_mfa_comes_from_the_user_and_step_up_without_it(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        _register(h, {"demo-consumer-chat"})
        weak = h.kit.idp_token("alice", ["staff"], amr=["pwd"])
        strong = h.kit.idp_token("alice", ["staff"], amr=["pwd", "otp"])
        denied = await h.client.post("/v1/chat/completions", json=chat("demo-consumer-chat"),
                                     headers=auth(weak))
        allowed = await h.client.post("/v1/chat/completions", json=chat("demo-consumer-chat"),
                                      headers=auth(strong))
    assert denied.status_code == 401
    assert 'acr_values="urn:ztai:mfa"' in denied.headers["www-authenticate"]
    assert allowed.status_code == 200


async def test_disabling_an_agent_or_its_sponsor_applies_at_once(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        _register(h, {"demo-chat"})
        token = (await _exchange(h, h.kit.idp_token("alice", ["staff"]))).json()["access_token"]
        before = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
        h.control.set_agent_disabled("mailbot", True)
        disabled = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
        h.control.set_agent_disabled("mailbot", False)
        h.control.revoke(Revocation(RevocationKind.USER, "alice", h.clock.now()))
        sponsor_gone = await h.client.post("/v1/chat/completions", json=chat(),
                                           headers=auth(token))
        refused = await _exchange(h, h.kit.idp_token("alice", ["staff"]))
    assert before.status_code == 200
    assert disabled.status_code == 401
    assert sponsor_gone.status_code == 401
    assert refused.status_code in (400, 401)


async def test_a_revoked_token_is_refused_on_the_next_request(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        _register(h, {"demo-chat"})
        token = (await _exchange(h, h.kit.idp_token("alice", ["staff"]))).json()["access_token"]
        assert (await h.client.post("/v1/chat/completions", json=chat(),
                                    headers=auth(token))).status_code == 200
        jti = h.events()[-1]["credential_id"]
        h.control.revoke(Revocation(RevocationKind.TOKEN, jti, h.clock.now()))
        after = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "credential_revoked"


async def test_token_endpoint_rejects_bad_requests(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        _register(h, {"demo-chat"})
        bad_grant = await _token(h, {"grant_type": "password", "username": "x"})
        no_assertion = await _token(h, {"grant_type": "client_credentials"})
        garbage = await h.client.post("/oauth2/token", content=b"\xff\xfe")
        foreign = await _token(h, {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": h.kit.assertion("mailbot", key=h.kit.idp_key)})
        events = h.events()
    assert bad_grant.json()["error"] == "unsupported_grant_type"
    assert bad_grant.status_code == 400
    assert no_assertion.status_code == 400
    assert garbage.status_code == 400
    assert foreign.status_code in (400, 401)
    assert len(events) == 4


async def test_a_revoked_session_is_refused_on_the_next_request(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        token = h.kit.idp_token("alice", ["staff"], sid="session-42")
        before = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
        h.control.revoke(Revocation(RevocationKind.SESSION, "session-42", h.clock.now()))
        after = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "session_revoked"

"""Conditional access end to end through the OpenAI routes: step-up without MFA, device
compliance for Confidential models, terms of use, named networks, risk, revocation, and
just-in-time roles that expire by themselves."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tests.gateway.harness import Harness, Options, auth, chat, harness
from ztai.gateway.device import SignedDeviceCheck
from ztai.gateway.verify import SignalOptions
from ztai.policy.bundled import starter_policies
from ztai.storage.model import (
    AccessGrant,
    GrantStatus,
    Revocation,
    RevocationKind,
    RiskLevel,
    RiskRecord,
)

pytestmark = pytest.mark.anyio

POLICIES = """
@id("mfa-for-consumer")
@reason("consumer-tier models need multi-factor authentication")
@obligation("step_up")
@acr_values("urn:ztai:mfa")
forbid (principal, action == Action::"invoke_model", resource)
when { resource.tier == "consumer" }
unless { context has mfa && context.mfa };

@id("compliant-device-for-confidential")
@reason("Confidential models need a compliant device")
forbid (principal, action == Action::"invoke_model", resource)
when { resource has label && resource.label == "Confidential" }
unless { context has device_compliant && context.device_compliant };

@id("terms-first")
@reason("accept the terms of use first")
@obligation("accept_terms")
@terms("default")
forbid (principal, action == Action::"embed", resource)
unless { context has terms_accepted && context.terms_accepted };

@id("no-elevated-risk")
@reason("elevated risk: access suspended")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has risk_level && context.risk_level == "elevated" };

@id("finance-only-from-corp")
@reason("finance models only from the corporate network")
forbid (principal, action == Action::"invoke_model", resource == Model::"demo-chat")
when { principal in Group::"finance" }
unless { context has network && context.network == "corp" };
"""

DEVICE_KEY = ECKey.generate_key("P-256", {"kid": "mdm-1"}, private=True)


def _options() -> Options:
    signals = SignalOptions(networks={"corp": (ipaddress.ip_network("10.0.0.0/8"),)},
                            terms={"default": "2026-01"})
    device = SignedDeviceCheck(KeySet([DEVICE_KEY]), "mdm.example")
    return Options(policy_texts={**starter_policies(), "20-ca.cedar": POLICIES},
                   signals=signals, device=device, terms={"default": ("2026-01", "https://t")})


def _device_claim(now: float, compliant: bool = True, **extra: Any) -> str:
    claims = {"iss": "mdm.example", "sub": "laptop-7", "exp": int(now) + 300,
              "compliant": compliant, **extra}
    return jwt.encode({"alg": "ES256", "kid": "mdm-1"}, claims, DEVICE_KEY)


async def _chat(h: Harness, model: str, key: str = "alice", **headers: str) -> Any:
    return await h.client.post("/v1/chat/completions", json=chat(model),
                               headers={**auth(h.keys[key]), **headers})


async def test_no_mfa_means_step_up(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        response = await _chat(h, "demo-consumer-chat")
        context_mfa = h.last_event()
    assert response.status_code == 401
    assert "insufficient_user_authentication" in response.headers["www-authenticate"]
    assert context_mfa["decision"]["policy_ids"] == ["mfa-for-consumer"]


async def test_confidential_model_needs_a_compliant_device(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        now = h.clock.now()
        none = await _chat(h, "secret-chat")
        bad = await _chat(h, "secret-chat", **{"x-ztai-device": _device_claim(now, False)})
        forged = await _chat(h, "secret-chat", **{"x-ztai-device": _device_claim(now)[:-4]
                                                  + "AAAA"})
        other_user = await _chat(h, "secret-chat", **{
            "x-ztai-device": _device_claim(now, principal="user:bob")})
        good = await _chat(h, "secret-chat", **{"x-ztai-device": _device_claim(now)})
        h.clock.advance(600)
        expired = await _chat(h, "secret-chat", **{"x-ztai-device": _device_claim(now)})
    assert [r.status_code for r in (none, bad, forged, other_user, good, expired)] == [
        403, 403, 403, 403, 200, 403]
    assert "compliant device" in none.json()["error"]["message"]


async def test_terms_of_use_must_be_accepted_first(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        body = {"model": "demo-embed", "input": "hello"}
        before = await h.client.post("/v1/embeddings", json=body, headers=auth(h.keys["alice"]))
        listed = await h.client.get("/v1/terms", headers=auth(h.keys["alice"]))
        accepted = await h.client.post("/v1/terms/accept", json={"app": "default"},
                                       headers=auth(h.keys["alice"]))
        unknown = await h.client.post("/v1/terms/accept", json={"app": "nope"},
                                      headers=auth(h.keys["alice"]))
        after = await h.client.post("/v1/embeddings", json=body, headers=auth(h.keys["alice"]))
        events = h.events()
    assert before.status_code == 403
    assert before.json()["error"]["code"] == "terms_not_accepted"
    assert listed.json()["data"] == [
        {"app": "default", "version": "2026-01", "url": "https://t", "accepted": False}]
    assert accepted.status_code == 200
    assert accepted.json()["principal"] == "user:alice"
    assert unknown.status_code == 400
    assert after.status_code == 200
    assert [e["route"] for e in events] == [
        "embeddings", "terms.list", "terms.accept", "terms.accept", "embeddings"]


async def test_risk_and_revocation_apply_on_the_next_request(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        assert (await _chat(h, "demo-chat")).status_code == 200
        h.control.set_risk(RiskRecord("user:alice", RiskLevel.ELEVATED, "test", "analyst",
                                      h.clock.now()))
        risky = await _chat(h, "demo-chat")
        h.control.set_risk(RiskRecord("user:alice", RiskLevel.NONE, "cleared", "analyst",
                                      h.clock.now()))
        h.control.revoke(Revocation(RevocationKind.USER, "alice", h.clock.now()))
        disabled = await _chat(h, "demo-chat")
        h.control.unrevoke(RevocationKind.USER, "alice")
        again = await _chat(h, "demo-chat")
    assert risky.status_code == 403
    assert "elevated risk" in risky.json()["error"]["message"]
    assert disabled.status_code == 401
    assert disabled.json()["error"]["code"] == "principal_disabled"
    assert again.status_code == 200


async def test_just_in_time_roles_join_groups_until_they_expire(tmp_path: Path) -> None:
    async with harness(tmp_path, _options()) as h:
        now = h.clock.now()
        h.control.put_grant(AccessGrant("g-1", "user:alice", "finance", "quarter close", 3600,
                                        now, GrantStatus.APPROVED, "bob", now, now + 3600))
        outside = await _chat(h, "demo-chat", **{"x-forwarded-for": "203.0.113.9"})
        inside = await _chat(h, "demo-chat", **{"x-forwarded-for": "10.1.2.3"})
        h.clock.advance(3601)
        expired = await _chat(h, "demo-chat", **{"x-forwarded-for": "203.0.113.9"})
    assert outside.status_code == 403  # the finance role applies, and it is not the corp net
    assert "corporate network" in outside.json()["error"]["message"]
    assert inside.status_code == 200
    assert expired.status_code == 200  # the role expired, so the finance rule no longer binds

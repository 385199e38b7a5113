"""Through the OpenAI route: a person's sign-in is good for ``max_session_age_s`` (also when an
agent acts for them with a fresh ztai token); the IdP's JWKS endpoint going down fails closed
once the cached keys are too stale, and a rotated-in key is picked up. Each outcome is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.gateway.harness import Harness, Options, auth, chat, harness
from tests.gateway.identity_kit import IDP
from ztai.core.clock import Clock
from ztai.gateway.verify import SignalOptions
from ztai.identity.jwks import JwksConfig, RemoteJwksSource
from ztai.policy.bundled import starter_policies
from ztai.storage.model import AgentRecord

pytestmark = pytest.mark.anyio

HOUR = 3600.0
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
AGENTS = """
@id("agents-use-models")
permit (principal in Group::"agents", action == Action::"invoke_model", resource);

@id("fresh-sign-in-for-confidential")
@reason("Confidential models need a sign-in from the last 15 minutes")
forbid (principal, action == Action::"invoke_model", resource)
when { resource has label && resource.label == "Confidential" }
unless { context has session_age_s && context.session_age_s >= 0
         && context.session_age_s <= 900 };
"""


def _session_options(limit: float = 8 * HOUR) -> Options:
    return Options(signals=SignalOptions(max_session_age_s=limit),
                   policy_texts={**starter_policies(), "20-sessions.cedar": AGENTS})


async def _chat(h: Harness, token: str, model: str = "demo-chat") -> httpx.Response:
    return await h.client.post("/v1/chat/completions", json=chat(model), headers=auth(token))


def _code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_sign_in_older_than_the_limit_is_refused(tmp_path: Path) -> None:
    async with harness(tmp_path, _session_options()) as h:
        now = h.clock.now()
        fresh = await _chat(h, h.kit.idp_token("alice", ["staff"], auth_time=int(now - 60)))
        old = await _chat(h, h.kit.idp_token("alice", ["staff"], auth_time=int(now - 9 * HOUR)))
        by_iat = await _chat(h, h.kit.idp_token("alice", ["staff"]))  # iat stands in
        h.clock.advance(8 * HOUR + 1)
        stale_iat = await _chat(h, h.kit.idp_token("alice", ["staff"], iat=int(now)))
        key = await _chat(h, h.keys["alice"])  # API keys have no sign-in session
        events = h.events()
    assert [r.status_code for r in (fresh, old, by_iat, stale_iat, key)] == [
        200, 401, 200, 401, 200]
    assert _code(old) == _code(stale_iat) == "session_expired"
    assert old.headers["www-authenticate"].startswith("Bearer")
    assert [e["status"] for e in events] == [200, 401, 200, 401, 200]
    assert events[1]["error"].startswith("session_expired")
    assert events[1]["principal"] == "alice"  # the token was genuine, the sign-in too old


async def test_policy_sees_the_session_age(tmp_path: Path) -> None:
    async with harness(tmp_path, _session_options()) as h:
        now = int(h.clock.now())
        recent = await _chat(h, h.kit.idp_token("alice", ["staff"], auth_time=now - 300),
                             "secret-chat")
        older = await _chat(h, h.kit.idp_token("alice", ["staff"], auth_time=now - 1800),
                            "secret-chat")
        event = h.last_event()
    assert recent.status_code == 200, recent.text
    assert older.status_code == 403
    assert "15 minutes" in older.json()["error"]["message"]
    assert event["decision"]["policy_ids"] == ["fresh-sign-in-for-confidential"]


async def test_a_delegated_token_keeps_the_users_sign_in_time(tmp_path: Path) -> None:
    async with harness(tmp_path, _session_options(limit=200)) as h:
        h.control.put_agent(AgentRecord("mailbot", "alice", h.kit.agent_public_jwk(),
                                        frozenset({"demo-chat"}), frozenset({"agents"}),
                                        created_at=h.clock.now()))
        user = h.kit.idp_token("alice", ["staff"], auth_time=int(h.clock.now()) - 100)
        issued = await h.client.post("/oauth2/token", data={
            "grant_type": EXCHANGE, "subject_token": user,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "actor_token": h.kit.assertion("mailbot"),
            "actor_token_type": "urn:ietf:params:oauth:token-type:jwt"})
        token = issued.json()["access_token"]
        first = await _chat(h, token)
        h.clock.advance(150)  # the ztai token lives 300 s, Alice's sign-in is now 250 s old
        second = await _chat(h, token)
        events = h.events()
    assert issued.status_code == 200, issued.text
    assert first.status_code == 200, first.text
    assert second.status_code == 401
    assert _code(second) == "session_expired"
    assert events[-1]["delegation"] == ["user:alice", "agent:mailbot"]
    assert events[-1]["status"] == 401


class _Jwks:
    """An IdP's JWKS endpoint that can be taken down or given new keys."""

    def __init__(self, *keys: ECKey) -> None:
        self.keys = list(keys)
        self.up = True
        self.hits = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.hits += 1
        if not self.up:
            return httpx.Response(503)
        document = {"keys": [k.as_dict(private=False) for k in self.keys]}
        return httpx.Response(200, content=orjson.dumps(document),
                              headers={"cache-control": "max-age=300"})

    def source(self, config: JwksConfig) -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

        def make(clock: Clock) -> RemoteJwksSource:
            return RemoteJwksSource(config, client, clock)
        return make


def _sign(h: Harness, key: ECKey, kid: str) -> str:
    now = int(h.clock.now())
    claims = {"iss": IDP, "aud": "ztai", "sub": "alice", "groups": ["staff"], "iat": now,
              "exp": now + 600}
    return jwt.encode({"alg": "ES256", "kid": kid}, claims, key)


CONFIG = JwksConfig("https://idp.test/jwks", min_refresh_interval_s=30, max_stale_s=600)


async def test_jwks_endpoint_down_fails_closed(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", {"kid": "k1"}, private=True)
    endpoint = _Jwks(key)
    async with harness(tmp_path, Options(idp_keys=endpoint.source(CONFIG))) as h:
        endpoint.up = False
        never_fetched = await _chat(h, _sign(h, key, "k1"))
        h.clock.advance(60)
        endpoint.up = True
        working = await _chat(h, _sign(h, key, "k1"))
        endpoint.up = False
        h.clock.advance(400)  # past the TTL: cached keys still usable while within max_stale_s
        stale_but_usable = await _chat(h, _sign(h, key, "k1"))
        h.clock.advance(600)  # past TTL + max_stale_s: fail closed
        too_stale = await _chat(h, _sign(h, key, "k1"))
        events = h.events()
    assert [r.status_code for r in (never_fetched, working, stale_but_usable, too_stale)] == [
        401, 200, 200, 401]
    assert _code(never_fetched) == _code(too_stale) == "keys_unavailable"
    assert [e["status"] for e in events] == [401, 200, 200, 401]
    assert events[0]["error"]
    assert events[3]["error"]


async def test_rotated_key_is_accepted_after_refresh(tmp_path: Path) -> None:
    old, new = (ECKey.generate_key("P-256", {"kid": k}, private=True) for k in ("k1", "k2"))
    endpoint = _Jwks(old)
    async with harness(tmp_path, Options(idp_keys=endpoint.source(CONFIG))) as h:
        before = await _chat(h, _sign(h, old, "k1"))
        endpoint.keys = [old, new]  # the IdP publishes its next key, then signs with it
        h.clock.advance(31)  # one refetch per min_refresh_interval_s, whatever tokens arrive
        rotated = await _chat(h, _sign(h, new, "k2"))
        hits = endpoint.hits
        forged = await _chat(h, _sign(h, ECKey.generate_key("P-256", private=True), "k3"))
        events = h.events()
    assert [r.status_code for r in (before, rotated, forged)] == [200, 200, 401]
    assert hits == 2  # first use, then once for the unknown kid
    assert _code(forged) == "unknown_key"
    assert [e["status"] for e in events] == [200, 200, 401]

"""Client assertions (RFC 7523 private_key_jwt) at the token endpoint, and the replay cache that
makes each ``jti`` single-use."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from joserfc.jwk import ECKey, OKPKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.identity.assertion import AssertionPolicy, ClientAssertionVerifier
from ztai.identity.replay import ReplayCache

from .support import (
    NOW,
    TOKEN_ENDPOINT,
    MemoryDirectory,
    assertion_claims,
    client_assertion,
    forge,
    hs256,
    public_jwk,
    sign,
)


@dataclasses.dataclass(frozen=True)
class Keys:
    agent: ECKey
    other: ECKey


Make = Callable[[Keys], str]

REFUSED: dict[str, tuple[Make, str]] = {
    "wrong audience": (
        lambda k: client_assertion(k.agent, "agent-1", aud="https://elsewhere/token"),
        "invalid_audience"),
    "audience the gateway, not the endpoint": (
        lambda k: client_assertion(k.agent, "agent-1", aud="ztai-gateway"), "invalid_audience"),
    "expired": (
        lambda k: client_assertion(k.agent, "agent-1", iat=NOW - 200, exp=NOW - 31),
        "token_expired"),
    "not yet valid": (
        lambda k: client_assertion(k.agent, "agent-1", nbf=NOW + 120), "token_not_yet_valid"),
    "signed by another key": (lambda k: client_assertion(k.other, "agent-1"), "unknown_key"),
    "signed by another key claiming the agent's kid": (
        lambda k: sign(k.other, assertion_claims("agent-1"), alg="ES256", kid="agent-1-key"),
        "invalid_signature"),
    "signed by another key, no kid": (
        lambda k: sign(k.other, assertion_claims("agent-1"), alg="ES256", kid=None),
        "invalid_signature"),
    "lifetime too long": (
        lambda k: client_assertion(k.agent, "agent-1", exp=NOW + 3600),
        "assertion_lifetime_too_long"),
    "issued long before it expires": (
        lambda k: client_assertion(k.agent, "agent-1", iat=NOW - 400, exp=NOW + 10),
        "assertion_lifetime_too_long"),
    "subject differs from issuer": (
        lambda k: client_assertion(k.agent, "agent-1", sub="agent-2"), "invalid_claim"),
    "no jti": (lambda k: client_assertion(k.agent, "agent-1", jti=None), "missing_claim"),
    "no exp": (lambda k: client_assertion(k.agent, "agent-1", exp=None), "missing_claim"),
    "unknown agent": (lambda k: client_assertion(k.agent, "agent-9"), "unknown_client"),
    "no issuer": (lambda k: client_assertion(k.agent, "agent-1", iss=None), "unknown_client"),
    "another agent's name": (lambda k: client_assertion(k.agent, "agent-2"), "unknown_key"),
    "HS256 keyed with the agent's public key": (
        lambda k: forge({"alg": "HS256"}, assertion_claims("agent-1"),
                        hs256(k.agent.as_pem(private=False))), "unsupported_algorithm"),
    "alg none": (
        lambda k: forge({"alg": "none"}, assertion_claims("agent-1")), "unsupported_algorithm"),
}


@pytest.fixture
def keys(agent_key: ECKey, agent2_key: ECKey) -> Keys:
    return Keys(agent_key, agent2_key)


def test_a_valid_assertion_names_its_agent(
    assertions: ClientAssertionVerifier, agent_key: ECKey
) -> None:
    record = assertions.verify(client_assertion(agent_key, "agent-1"), client_id="agent-1")
    assert (record.id, record.sponsor) == ("agent-1", "alice")


@pytest.mark.parametrize(("make", "code"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_assertions_are_refused(
    assertions: ClientAssertionVerifier, keys: Keys, make: Make, code: str
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        assertions.verify(make(keys))
    assert caught.value.code == code


def test_a_replayed_jti_is_refused(assertions: ClientAssertionVerifier, agent_key: ECKey) -> None:
    token = client_assertion(agent_key, "agent-1", jti="once")
    assertions.verify(token)
    with pytest.raises(AuthenticationFailed) as caught:
        assertions.verify(token)
    assert caught.value.code == "assertion_replayed"
    fresh = client_assertion(agent_key, "agent-1", jti="once", exp=NOW + 61)
    with pytest.raises(AuthenticationFailed):
        assertions.verify(fresh)


def test_jtis_are_per_agent(
    assertions: ClientAssertionVerifier, agent_key: ECKey, agent2_key: ECKey
) -> None:
    assertions.verify(client_assertion(agent_key, "agent-1", jti="same"))
    assert assertions.verify(client_assertion(agent2_key, "agent-2", jti="same")).id == "agent-2"


def test_a_refused_assertion_does_not_use_up_its_jti(
    assertions: ClientAssertionVerifier, agent_key: ECKey, agent2_key: ECKey
) -> None:
    with pytest.raises(AuthenticationFailed):
        assertions.verify(client_assertion(agent2_key, "agent-1", jti="j", kid="agent-1-key"))
    assert assertions.verify(client_assertion(agent_key, "agent-1", jti="j")).id == "agent-1"


def test_the_client_id_must_match(assertions: ClientAssertionVerifier, agent_key: ECKey) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        assertions.verify(client_assertion(agent_key, "agent-1"), client_id="agent-2")
    assert caught.value.code == "unknown_client"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"disabled": True}, "agent_disabled"),
        ({"expires_at": float(NOW)}, "agent_expired"),
        ({"public_jwk": {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"}}, "unknown_key"),
        ({"public_jwk": {"kty": "EC"}}, "unknown_key"),
    ],
)
def test_agent_status_is_checked(
    assertions: ClientAssertionVerifier,
    directory: MemoryDirectory,
    agent_key: ECKey,
    change: dict[str, Any],
    code: str,
) -> None:
    directory.agents["agent-1"] = dataclasses.replace(directory.agents["agent-1"], **change)
    with pytest.raises(AuthenticationFailed) as caught:
        assertions.verify(client_assertion(agent_key, "agent-1"))
    assert caught.value.code == code


def test_a_registered_private_key_is_refused(
    assertions: ClientAssertionVerifier, directory: MemoryDirectory, agent_key: ECKey
) -> None:
    private = dict(agent_key.as_dict(private=True))
    record = directory.agents["agent-1"]
    directory.agents["agent-1"] = dataclasses.replace(record, public_jwk=private)
    with pytest.raises(AuthenticationFailed) as caught:
        assertions.verify(client_assertion(agent_key, "agent-1"))
    assert caught.value.code == "unknown_key"


def test_an_inactive_sponsor_stops_the_agent(
    assertions: ClientAssertionVerifier, directory: MemoryDirectory, agent_key: ECKey
) -> None:
    directory.inactive_sponsors.add("alice")
    with pytest.raises(AuthenticationFailed) as caught:
        assertions.verify(client_assertion(agent_key, "agent-1"))
    assert caught.value.code == "sponsor_inactive"


def test_ed25519_agents(directory: MemoryDirectory, clock: FixedClock, ed_key: OKPKey) -> None:
    directory.agents["agent-1"] = dataclasses.replace(
        directory.agents["agent-1"], public_jwk=public_jwk(ed_key)
    )
    verifier = ClientAssertionVerifier(
        AssertionPolicy(TOKEN_ENDPOINT), directory, ReplayCache(clock), clock
    )
    token = sign(ed_key, assertion_claims("agent-1"), alg="Ed25519")
    assert verifier.verify(token).id == "agent-1"


def test_the_replay_cache_forgets_expired_ids(clock: FixedClock) -> None:
    cache = ReplayCache(clock, max_entries=2)
    assert cache.consume("a", NOW + 10)
    assert not cache.consume("a", NOW + 10)
    assert cache.consume("b", NOW + 20)
    with pytest.raises(AuthenticationFailed) as caught:
        cache.consume("c", NOW + 20)
    assert caught.value.code == "replay_cache_full"
    clock.advance(10)
    assert len(cache) == 2
    assert cache.consume("c", NOW + 30)
    assert len(cache) == 2
    assert not cache.consume("c", NOW + 30)
    clock.advance(10)
    assert cache.consume("a", NOW + 30)  # "a" expired at NOW + 10: it is a new assertion now


@pytest.mark.parametrize(
    "change",
    [{"max_lifetime_s": 301}, {"max_lifetime_s": 0}, {"leeway_s": 301}, {"audience": ""},
     {"algorithms": ("HS256",)}, {"algorithms": ()}],
)
def test_assertion_policy_bounds(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        AssertionPolicy(**{"audience": TOKEN_ENDPOINT, **change})


def test_replay_cache_needs_room(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="positive"):
        ReplayCache(clock, max_entries=0)

"""Agent tokens and on-behalf-of delegation (RFC 8693): the issued token carries ``act``, the
verified principal is the agent acting for the user, rights only narrow, and a disabled sponsor
or a mismatched actor is refused."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import Principal, PrincipalKind
from ztai.core.secret import Secret
from ztai.identity.exchange import (
    ID_TOKEN_TYPE,
    ExchangeRequest,
    TokenService,
    exchange_token,
    issue_agent_token,
)
from ztai.identity.failure import oauth_error
from ztai.identity.guard import ActiveAgentAuthenticator
from ztai.identity.header import BearerCredential
from ztai.identity.model import ACCESS_TOKEN_TYPE, IssuedToken

from .support import (
    AUDIENCE,
    IDP,
    NOW,
    ZTAI,
    MemoryDirectory,
    client_assertion,
    idp_claims,
    sign,
    unverified_claims,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def user_token(rsa_key: RSAKey) -> str:
    claims = idp_claims(groups=["staff", "mail-users"], amr=["pwd", "mfa"], acr="aal2", sid="s-1")
    return sign(rsa_key, claims)


def request(subject: str, actor: str, **changes: Any) -> ExchangeRequest:
    return ExchangeRequest(Secret(subject), Secret(actor), **changes)


async def delegate(service: TokenService, user_token: str, agent_key: ECKey, **changes: Any) -> (
    IssuedToken
):
    actor = client_assertion(agent_key, "agent-1", jti=secrets.token_hex(8))
    return await exchange_token(request(user_token, actor, client_id="agent-1", **changes), service)


async def test_the_exchanged_token_names_the_agent_acting_for_the_user(
    service: TokenService, user_token: str, agent_key: ECKey
) -> None:
    issued = await delegate(service, user_token, agent_key)
    claims = unverified_claims(issued.token.reveal())
    assert claims["sub"] == "alice"
    assert claims["act"]["sub"] == "agent-1"
    assert "act" not in claims["act"]

    principal = await service.verifier.verify(issued.token.reveal())
    user, agent = principal.chain()
    assert (user.id, agent.id) == ("alice", "agent-1")
    assert principal is agent
    assert (agent.kind, agent.sponsor, agent.groups) == (PrincipalKind.AGENT, "alice", {"bots"})
    assert agent.auth_method == "agent_token"
    assert agent.issuer == ZTAI
    assert agent.credential_id == issued.jti
    assert agent.session_id == "s-1"
    assert agent.attributes == {"team": "mail", "scope": "claude gpt-4o"}
    assert (user.kind, user.groups) == (PrincipalKind.USER, {"staff", "mail-users"})
    assert (user.amr, user.acr, user.issuer) == ({"pwd", "mfa"}, "aal2", IDP)


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        (None, {"gpt-4o", "claude"}),
        (frozenset({"gpt-4o", "llama"}), {"gpt-4o"}),
        (frozenset({"claude"}), {"claude"}),
    ],
)
async def test_the_scope_is_the_intersection(
    service: TokenService,
    user_token: str,
    agent_key: ECKey,
    requested: frozenset[str] | None,
    granted: set[str],
) -> None:
    issued = await delegate(service, user_token, agent_key, scope=requested)
    assert issued.scope == granted
    assert set(unverified_claims(issued.token.reveal())["scope"].split()) == granted
    assert issued.response()["scope"] == " ".join(sorted(granted))


async def test_a_scope_outside_the_agent_rights_is_refused(
    service: TokenService, user_token: str, agent_key: ECKey
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await delegate(service, user_token, agent_key, scope=frozenset({"llama"}))
    assert caught.value.code == "invalid_scope"
    assert oauth_error(caught.value.code) == "invalid_scope"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("sponsor", "sponsor_inactive"),
        ("disabled", "agent_disabled"),
        ("deleted", "unknown_client"),
    ],
)
async def test_an_inactive_agent_or_sponsor_is_refused(
    service: TokenService,
    directory: MemoryDirectory,
    user_token: str,
    agent_key: ECKey,
    change: str,
    code: str,
) -> None:
    if change == "sponsor":
        directory.inactive_sponsors.add("alice")
    elif change == "disabled":
        record = directory.agents["agent-1"]
        directory.agents["agent-1"] = dataclasses.replace(record, disabled=True)
    else:
        del directory.agents["agent-1"]
    with pytest.raises(AuthenticationFailed) as caught:
        await delegate(service, user_token, agent_key)
    assert caught.value.code == code


async def test_an_assertion_of_another_agent_is_refused(
    service: TokenService, user_token: str, agent2_key: ECKey
) -> None:
    actor = client_assertion(agent2_key, "agent-2")
    with pytest.raises(AuthenticationFailed) as caught:
        await exchange_token(request(user_token, actor, client_id="agent-1"), service)
    assert caught.value.code == "unknown_client"
    assert oauth_error(caught.value.code) == "invalid_client"


async def test_an_access_token_of_another_agent_is_refused(
    service: TokenService, user_token: str, agent2_key: ECKey
) -> None:
    own = issue_agent_token(client_assertion(agent2_key, "agent-2"), None, service)
    req = request(user_token, own.token.reveal(), actor_token_type=ACCESS_TOKEN_TYPE,
                  client_id="agent-1")
    with pytest.raises(AuthenticationFailed) as caught:
        await exchange_token(req, service)
    assert caught.value.code == "actor_mismatch"


async def test_the_agent_access_token_can_be_the_actor_token(
    service: TokenService, user_token: str, agent_key: ECKey
) -> None:
    own = issue_agent_token(client_assertion(agent_key, "agent-1"), None, service)
    req = request(user_token, own.token.reveal(), actor_token_type=ACCESS_TOKEN_TYPE)
    principal = await service.verifier.verify((await exchange_token(req, service)).token.reveal())
    assert [p.id for p in principal.chain()] == ["alice", "agent-1"]


@pytest.mark.parametrize("actor", ["user", "delegated"])
async def test_an_actor_token_that_is_not_an_agent_own_token_is_refused(
    service: TokenService, user_token: str, agent_key: ECKey, actor: str
) -> None:
    token = user_token if actor == "user" else (
        await delegate(service, user_token, agent_key)).token.reveal()
    req = request(user_token, token, actor_token_type=ACCESS_TOKEN_TYPE)
    with pytest.raises(AuthenticationFailed) as caught:
        await exchange_token(req, service)
    assert caught.value.code == "actor_mismatch"


async def test_an_agent_token_for_itself(service: TokenService, agent_key: ECKey) -> None:
    issued = issue_agent_token(
        client_assertion(agent_key, "agent-1"), frozenset({"claude", "x"}), service, "agent-1"
    )
    principal = await service.verifier.verify(issued.token.reveal())
    assert (principal.id, principal.kind, principal.acting_for) == (
        "agent-1", PrincipalKind.AGENT, None)
    assert principal.chain() == (principal,)
    assert principal.attributes["scope"] == "claude"
    assert issued.expires_in == 300
    assert "act" not in unverified_claims(issued.token.reveal())


async def test_a_longer_chain_nests_act_and_narrows_again(
    service: TokenService, user_token: str, agent_key: ECKey, agent2_key: ECKey
) -> None:
    first = await delegate(service, user_token, agent_key)
    actor = client_assertion(agent2_key, "agent-2")
    second = await exchange_token(request(first.token.reveal(), actor), service)
    claims = unverified_claims(second.token.reveal())
    assert (claims["sub"], claims["act"]["sub"], claims["act"]["act"]["sub"]) == (
        "alice", "agent-2", "agent-1")
    principal = await service.verifier.verify(second.token.reveal())
    assert [p.id for p in principal.chain()] == ["alice", "agent-1", "agent-2"]
    assert [p.sponsor for p in principal.chain()] == [None, "alice", "bob"]
    assert second.scope == {"gpt-4o"}  # agent-1 had {gpt-4o, claude}; agent-2 {gpt-4o, llama}


async def test_a_chain_with_a_now_inactive_agent_cannot_be_extended(
    service: TokenService,
    directory: MemoryDirectory,
    user_token: str,
    agent_key: ECKey,
    agent2_key: ECKey,
) -> None:
    first = await delegate(service, user_token, agent_key)
    directory.inactive_sponsors.add("alice")
    actor = client_assertion(agent2_key, "agent-2")
    with pytest.raises(AuthenticationFailed) as caught:
        await exchange_token(request(first.token.reveal(), actor), service)
    assert caught.value.code == "sponsor_inactive"


async def test_the_token_never_outlives_the_subject_token(
    service: TokenService, rsa_key: RSAKey, agent_key: ECKey, clock: FixedClock
) -> None:
    short = sign(rsa_key, idp_claims(exp=NOW + 42))
    assert (await delegate(service, short, agent_key)).expires_in == 42
    clock.advance(50)  # the subject token is now only valid within the leeway
    with pytest.raises(AuthenticationFailed) as caught:
        await delegate(service, short, agent_key)
    assert caught.value.code == "token_expired"


async def test_the_token_never_outlives_the_agent(
    service: TokenService, directory: MemoryDirectory, user_token: str, agent_key: ECKey
) -> None:
    directory.agents["agent-1"] = dataclasses.replace(
        directory.agents["agent-1"], expires_at=float(NOW + 100)
    )
    assert (await delegate(service, user_token, agent_key)).expires_in == 100


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"subject_token_type": "urn:ietf:params:oauth:token-type:saml2"},
         "unsupported_token_type"),
        ({"actor_token_type": ID_TOKEN_TYPE}, "unsupported_token_type"),
        ({"audience": "https://other.example"}, "invalid_target"),
    ],
)
async def test_malformed_requests_are_refused(
    service: TokenService, user_token: str, agent_key: ECKey, changes: dict[str, str], code: str
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await delegate(service, user_token, agent_key, **changes)
    assert caught.value.code == code


async def test_an_invalid_subject_token_is_refused(
    service: TokenService, rsa_key: RSAKey, agent_key: ECKey
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await delegate(service, sign(rsa_key, idp_claims(aud="other")), agent_key)
    assert caught.value.code == "invalid_audience"
    assert oauth_error(caught.value.code) == "invalid_grant"


async def test_an_id_token_subject_is_accepted(
    service: TokenService, user_token: str, agent_key: ECKey
) -> None:
    issued = await delegate(service, user_token, agent_key, subject_token_type=ID_TOKEN_TYPE)
    assert issued.response()["issued_token_type"] == ACCESS_TOKEN_TYPE


async def test_revoking_the_sponsor_stops_issued_tokens_on_the_next_request(
    service: TokenService, directory: MemoryDirectory, user_token: str, agent_key: ECKey,
    clock: FixedClock,
) -> None:
    guard = ActiveAgentAuthenticator(service.verifier, directory, ZTAI, clock)
    credential = BearerCredential((await delegate(service, user_token, agent_key)).token)
    assert (await guard.authenticate(credential)).id == "agent-1"
    directory.inactive_sponsors.add("alice")
    with pytest.raises(AuthenticationFailed) as caught:
        await guard.authenticate(credential)
    assert caught.value.code == "sponsor_inactive"
    del directory.agents["agent-1"]
    with pytest.raises(AuthenticationFailed) as caught:
        await guard.authenticate(credential)
    assert caught.value.code == "unknown_client"


async def test_the_guard_leaves_idp_agents_alone(
    service: TokenService, directory: MemoryDirectory, rsa_key: RSAKey, clock: FixedClock
) -> None:
    """An agent identity asserted by the IdP is not in ztai's registry and is not checked."""
    guard = ActiveAgentAuthenticator(service.verifier, directory, ZTAI, clock)
    principal: Principal = await guard.authenticate(
        BearerCredential(Secret(sign(rsa_key, idp_claims(sub="idp-robot"))))
    )
    assert principal.id == "idp-robot"


def test_the_token_response_shape(service: TokenService, agent_key: ECKey) -> None:
    issued = issue_agent_token(client_assertion(agent_key, "agent-1"), None, service)
    body = issued.response()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["access_token"] == issued.token.reveal()
    assert issued.token.reveal() not in repr(issued)
    assert unverified_claims(issued.token.reveal())["aud"] == AUDIENCE

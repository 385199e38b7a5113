"""Fixtures for the identity tests: the anyio backend, a clock at ``NOW``, keys (made once per
session: RSA generation is slow) and a verifier trusting one identity provider."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from ztai.core.clock import FixedClock
from ztai.identity.assertion import AssertionPolicy, ClientAssertionVerifier
from ztai.identity.exchange import TokenService
from ztai.identity.issuer import IssuerSettings, TokenIssuer
from ztai.identity.keyset import StaticKeySource
from ztai.identity.model import AgentRecord
from ztai.identity.replay import ReplayCache
from ztai.identity.signing import SigningKey
from ztai.identity.validation import ClaimRules
from ztai.identity.verifier import IssuerConfig, JwtVerifier, TrustedIssuer

from .support import (
    AUDIENCE,
    IDP,
    NOW,
    TOKEN_ENDPOINT,
    ZTAI,
    JwksServer,
    MemoryDirectory,
    public_jwk,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(float(NOW))


@pytest.fixture(scope="session")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


@pytest.fixture(scope="session")
def other_rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})


@pytest.fixture(scope="session")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


@pytest.fixture(scope="session")
def ed_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})


def idp_config(**changes: object) -> IssuerConfig:
    rules = ClaimRules(IDP, frozenset({AUDIENCE}))
    return IssuerConfig(rules, **changes)  # type: ignore[arg-type]  # test factory


@pytest.fixture
def verifier(rsa_key: RSAKey, ec_key: ECKey, clock: FixedClock) -> JwtVerifier:
    keys = StaticKeySource([rsa_key, ec_key])
    return JwtVerifier([TrustedIssuer(idp_config(), keys)], clock)


@pytest.fixture
async def jwks_server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(scope="session")
def agent_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "agent-1-key"})


@pytest.fixture(scope="session")
def agent2_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "agent-2-key"})


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey(ECKey.generate_key("P-256"))


@pytest.fixture
def directory(agent_key: ECKey, agent2_key: ECKey) -> MemoryDirectory:
    agents = [
        AgentRecord("agent-1", "alice", public_jwk(agent_key), frozenset({"gpt-4o", "claude"}),
                    frozenset({"bots"}), {"team": "mail"}),
        AgentRecord("agent-2", "bob", public_jwk(agent2_key), frozenset({"gpt-4o", "llama"})),
    ]
    return MemoryDirectory({agent.id: agent for agent in agents})


@pytest.fixture
def assertions(directory: MemoryDirectory, clock: FixedClock) -> ClientAssertionVerifier:
    return ClientAssertionVerifier(
        AssertionPolicy(TOKEN_ENDPOINT), directory, ReplayCache(clock), clock
    )


@pytest.fixture
def token_issuer(signing_key: SigningKey, clock: FixedClock) -> TokenIssuer:
    return TokenIssuer(IssuerSettings(ZTAI, AUDIENCE), signing_key, clock)


@pytest.fixture
def service(
    rsa_key: RSAKey,
    token_issuer: TokenIssuer,
    assertions: ClientAssertionVerifier,
    directory: MemoryDirectory,
    clock: FixedClock,
) -> TokenService:
    idp = TrustedIssuer(idp_config(), StaticKeySource([rsa_key]))
    verifier = JwtVerifier([idp, token_issuer.trusted_issuer()], clock)
    return TokenService(verifier, assertions, token_issuer, directory, clock)

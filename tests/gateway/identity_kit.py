"""The identity side of the harness: an OIDC provider's signing key, ztai's token issuer, an
agent key pair, and helpers to mint IdP tokens and client assertions as real clients would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from ztai.core.clock import FixedClock, new_id
from ztai.gateway.agents import ControlAgentDirectory
from ztai.gateway.control import ControlView
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.tokens import TokenEndpoint, oauth_outcome
from ztai.identity.apikey import ApiKeyAuthenticator
from ztai.identity.assertion import AssertionPolicy, ClientAssertionVerifier
from ztai.identity.composite import CompositeAuthenticator
from ztai.identity.exchange import TokenService
from ztai.identity.guard import ActiveAgentAuthenticator
from ztai.identity.issuer import IssuerSettings, TokenIssuer
from ztai.identity.keyset import KeySource, StaticKeySource
from ztai.identity.replay import ReplayCache
from ztai.identity.signing import SigningKey
from ztai.identity.validation import ClaimRules
from ztai.identity.verifier import IssuerConfig, JwtVerifier, TrustedIssuer
from ztai.storage.interface import ControlStore, KeyStore

IDP = "https://idp.test/"
ZTAI = "urn:ztai"
TOKEN_ENDPOINT = "http://ztai.test/oauth2/token"


@dataclass
class IdentityKit:
    clock: FixedClock
    idp_key: ECKey
    agent_key: ECKey
    authenticator: CompositeAuthenticator
    token_route: FastRoute

    def idp_token(self, sub: str, groups: list[str], **claims: Any) -> str:
        now = int(self.clock.now())
        body = {"iss": IDP, "aud": "ztai", "sub": sub, "groups": groups, "iat": now,
                "exp": now + 600, **claims}
        return jwt.encode({"alg": "ES256", "kid": "idp-1"}, body, self.idp_key)

    def assertion(self, agent_id: str, key: ECKey | None = None, **claims: Any) -> str:
        now = int(self.clock.now())
        body = {"iss": agent_id, "sub": agent_id, "aud": TOKEN_ENDPOINT, "iat": now,
                "exp": now + 60, "jti": new_id(), **claims}
        return jwt.encode({"alg": "ES256", "kid": "agent-1"}, body, key or self.agent_key)

    def agent_public_jwk(self) -> dict[str, Any]:
        return dict(self.agent_key.as_dict(private=False))


def identity_kit(keys: KeyStore, control: ControlStore, clock: FixedClock,
                 idp_keys: KeySource | None = None) -> IdentityKit:
    """``idp_keys``: where the IdP's public keys come from (default: ``idp_key``'s, static)."""
    idp_key = ECKey.generate_key("P-256", {"kid": "idp-1"}, private=True)
    agent_key = ECKey.generate_key("P-256", {"kid": "agent-1"}, private=True)
    directory = ControlAgentDirectory(ControlView(control))
    issuer = TokenIssuer(IssuerSettings(ZTAI), SigningKey(
        ECKey.generate_key("P-256", private=True)), clock)
    idp = TrustedIssuer(IssuerConfig(ClaimRules(IDP, frozenset({"ztai"}))), idp_keys or
                        StaticKeySource([ECKey.import_key(idp_key.as_dict(private=False))]))
    verifier = JwtVerifier([idp, issuer.trusted_issuer()], clock)
    assertions = ClientAssertionVerifier(AssertionPolicy(TOKEN_ENDPOINT), directory,
                                         ReplayCache(clock), clock)
    endpoint = TokenEndpoint(TokenService(verifier, assertions, issuer, directory, clock))
    authenticator = CompositeAuthenticator(
        ApiKeyAuthenticator(keys, clock),
        ActiveAgentAuthenticator(verifier, directory, ZTAI, clock))
    route = FastRoute("oauth.token", bind=endpoint.bind, shape=oauth_outcome)
    return IdentityKit(clock, idp_key, agent_key, authenticator, route)

"""Who may call, assembled from settings: API keys, JWTs from the configured identity
providers, ztai's own agent tokens, and the token endpoint that issues them."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ztai.config.settings import ConfigError, IssuerSettings, Settings
from ztai.core.clock import Clock
from ztai.gateway.agents import ControlAgentDirectory
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.tokens import TokenEndpoint, oauth_outcome
from ztai.identity.apikey import ApiKeyAuthenticator
from ztai.identity.assertion import AssertionPolicy, ClientAssertionVerifier
from ztai.identity.claims import ClaimMapping
from ztai.identity.composite import CompositeAuthenticator
from ztai.identity.exchange import TokenService
from ztai.identity.guard import ActiveAgentAuthenticator
from ztai.identity.interface import Authenticator
from ztai.identity.issuer import IssuerSettings as TokenIssuerSettings
from ztai.identity.issuer import TokenIssuer
from ztai.identity.jwks import JwksConfig, RemoteJwksSource
from ztai.identity.keyset import KeySource, load_jwks_file
from ztai.identity.replay import ReplayCache
from ztai.identity.signing import SigningKey
from ztai.identity.validation import ClaimRules
from ztai.identity.verifier import IssuerConfig, JwtVerifier, TrustedIssuer
from ztai.storage.interface import KeyStore


@dataclass(frozen=True, slots=True)
class IdentityParts:
    authenticator: Authenticator
    token_route: FastRoute
    token_issuer: TokenIssuer
    jwks_client: httpx.AsyncClient


def build_identity(settings: Settings, keys: KeyStore, directory: ControlAgentDirectory,
                   clock: Clock) -> IdentityParts:
    tokens = settings.identity.tokens
    client = httpx.AsyncClient(timeout=10.0, follow_redirects=False, trust_env=False)
    issuer = TokenIssuer(TokenIssuerSettings(tokens.issuer, tokens.audience, tokens.ttl_s),
                         _signing_key(settings), clock)
    idps = [_trusted(i, settings, client, clock) for i in settings.identity.issuers]
    verifier = JwtVerifier([*idps, issuer.trusted_issuer()], clock)
    guarded = ActiveAgentAuthenticator(verifier, directory, tokens.issuer, clock)
    assertions = ClientAssertionVerifier(AssertionPolicy(tokens.endpoint), directory,
                                         ReplayCache(clock), clock)
    service = TokenService(verifier, assertions, issuer, directory, clock)
    endpoint = TokenEndpoint(service)
    route = FastRoute("oauth.token", bind=endpoint.bind, shape=oauth_outcome)
    authenticator = CompositeAuthenticator(ApiKeyAuthenticator(keys, clock), guarded)
    return IdentityParts(authenticator, route, issuer, client)


def _signing_key(settings: Settings) -> SigningKey:
    path = settings.path(settings.identity.tokens.signing_key)
    try:
        return SigningKey.from_pem_file(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"identity.tokens.signing_key {path}: {exc} ('ztai init' creates one)"
                          ) from exc


def _trusted(config: IssuerSettings, settings: Settings, client: httpx.AsyncClient,
             clock: Clock) -> TrustedIssuer:
    claims = config.claims
    mapping = ClaimMapping(subject=claims.subject, groups=claims.groups, amr=claims.amr,
                           acr=claims.acr, session=claims.session, kind=claims.kind,
                           attributes=dict(claims.attributes),
                           subject_prefix=claims.subject_prefix)
    try:
        rules = ClaimRules(config.issuer, frozenset(config.audiences), config.leeway_s,
                           max_lifetime_s=config.max_token_lifetime_s)
        issuer = IssuerConfig(rules, tuple(config.algorithms), mapping,
                              frozenset(config.token_types))
        return TrustedIssuer(issuer, _keys(config, settings, client, clock))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"identity issuer {config.issuer!r}: {exc}") from exc


def _keys(config: IssuerSettings, settings: Settings, client: httpx.AsyncClient,
          clock: Clock) -> KeySource:
    if config.jwks_file is not None:
        return load_jwks_file(settings.path(config.jwks_file))
    return RemoteJwksSource(JwksConfig(str(config.jwks_url), ttl_s=config.jwks_ttl_s), client,
                            clock)

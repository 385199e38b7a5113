"""JWT bearer tokens from trusted issuers (OIDC identity providers, and ztai itself): the issuer
chosen by ``iss``, the key by ``kid`` from that issuer's own keys (never from the token), then
signature, claims, and the claims mapped to a Principal."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, assert_never

from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from ztai.core.clock import Clock
from ztai.core.model import Principal, PrincipalKind
from ztai.identity.algorithms import DEFAULT_ALGORITHMS, check_algorithms, verification_registry
from ztai.identity.claims import ClaimMapping, map_principal, optional_string
from ztai.identity.compact import DEFAULT_MAX_TOKEN_BYTES, CompactParser, Unverified
from ztai.identity.delegation import SCOPE_ATTRIBUTE, chain_principal
from ztai.identity.failure import AuthCode, auth_failure
from ztai.identity.header import BearerCredential
from ztai.identity.keyset import KeySource, select_key
from ztai.identity.validation import ClaimRules, check_claims, check_signature


class IssuerRole(StrEnum):
    """``provider``: an outside IdP, claims mapped by a ``ClaimMapping``. ``ztai``: tokens ztai
    issued, whose claims carry the delegation chain."""

    PROVIDER = "provider"
    ZTAI = "ztai"


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """One trusted issuer. ``token_types`` lists accepted ``typ`` headers, lower case without
    ``application/`` (e.g. ``at+jwt``; empty: any)."""

    rules: ClaimRules
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    mapping: ClaimMapping = field(default_factory=ClaimMapping)
    token_types: frozenset[str] = frozenset()
    role: IssuerRole = IssuerRole.PROVIDER

    def __post_init__(self) -> None:
        check_algorithms(self.algorithms)


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    config: IssuerConfig
    keys: KeySource


@dataclass(frozen=True, slots=True)
class _Issuer:
    config: IssuerConfig
    keys: KeySource
    registry: JWSRegistry


class JwtVerifier:
    """An ``Authenticator`` for JWTs from ``issuers``; every failure is ``AuthenticationFailed``
    with a specific code. Tokens over ``max_token_bytes`` are refused before any parsing."""

    def __init__(
        self,
        issuers: Sequence[TrustedIssuer],
        clock: Clock,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
    ) -> None:
        self._parser = CompactParser(max_token_bytes)
        self._clock = clock
        self._issuers: dict[str, _Issuer] = {}
        for trusted in issuers:
            name = trusted.config.rules.issuer
            if name in self._issuers:
                raise ValueError(f"issuer {name!r} configured twice")
            registry = verification_registry(trusted.config.algorithms, max_token_bytes)
            self._issuers[name] = _Issuer(trusted.config, trusted.keys, registry)

    async def authenticate(self, credential: BearerCredential) -> Principal:
        return await self.verify(credential.token.reveal())

    async def verify(self, token: str) -> Principal:
        """As ``authenticate``, for a token that came some other way (a token-exchange form)."""
        unverified = self._parser.parse(token)
        issuer = self._issuer_of(unverified)
        key = await _key_for(issuer, unverified)
        check_signature(unverified, key, issuer.registry)
        check_claims(unverified.claims, issuer.config.rules, self._clock.now())
        return _principal(unverified.claims, issuer.config)

    def _issuer_of(self, token: Unverified) -> _Issuer:
        name = token.claims.get("iss")
        issuer = self._issuers.get(name) if isinstance(name, str) else None
        if issuer is None:
            raise auth_failure(AuthCode.INVALID_ISSUER)
        if token.algorithm not in issuer.config.algorithms:
            raise auth_failure(AuthCode.UNSUPPORTED_ALGORITHM)
        types = issuer.config.token_types
        if types and _media_type(token.header.get("typ")) not in types:
            raise auth_failure(AuthCode.UNSUPPORTED_TOKEN_TYPE)
        return issuer


def _media_type(typ: object) -> str:
    """``typ`` as RFC 7515 section 4.1.9 compares it: case-insensitive, ``application/`` implied."""
    value = str(typ or "").lower()
    return value.removeprefix("application/")


async def _key_for(issuer: _Issuer, token: Unverified) -> Key:
    """The issuer's key for the token's ``kid``; one refetch (rate-limited by the source) when
    the kid is unknown, so that a rotated-in key is found."""
    key = select_key(await issuer.keys.current(), token.kid, token.algorithm)
    if key is None:
        key = select_key(await issuer.keys.refresh(), token.kid, token.algorithm)
    if key is None:
        raise auth_failure(AuthCode.UNKNOWN_KEY)
    return key


def _principal(claims: Mapping[str, Any], config: IssuerConfig) -> Principal:
    match config.role:
        case IssuerRole.PROVIDER:
            return map_principal(claims, config.mapping, config.rules.issuer)
        case IssuerRole.ZTAI:
            return _ztai_principal(claims, config.rules.issuer)
        case _:
            assert_never(config.role)


def _ztai_principal(claims: Mapping[str, Any], issuer: str) -> Principal:
    """The chain's current party, with what the token says about this use of it; a ztai token
    for a user keeps the user's original issuer."""
    principal = chain_principal(claims, issuer)
    scope = optional_string(claims.get("scope"))
    attributes = principal.attributes
    if scope is not None:
        attributes = {**attributes, SCOPE_ATTRIBUTE: scope}
    return dataclasses.replace(
        principal,
        attributes=attributes,
        auth_method="agent_token" if principal.kind is PrincipalKind.AGENT else "ztai_token",
        credential_id=optional_string(claims.get("jti")) or "",
        issuer=principal.issuer or issuer,
        session_id=optional_string(claims.get("sid")),
        expires_at=float(claims["exp"]),
    )

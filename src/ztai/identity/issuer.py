"""Short-lived access tokens that ztai signs for agents (and users acting through them), and the
``TrustedIssuer`` that lets the same ``JwtVerifier`` check them with ztai's local keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import Key

from ztai.core.clock import Clock, new_id
from ztai.core.model import Principal
from ztai.core.secret import Secret
from ztai.identity.delegation import chain_claims
from ztai.identity.keyset import StaticKeySource, jwks_document
from ztai.identity.model import IssuedToken
from ztai.identity.signing import SigningKey
from ztai.identity.validation import ClaimRules
from ztai.identity.verifier import IssuerConfig, IssuerRole, TrustedIssuer

# RFC 9068: an access token, never mistaken for an ID token or a client assertion.
TOKEN_TYPE = "at+jwt"


MAX_TOKEN_TTL_S = 3600


@dataclass(frozen=True, slots=True)
class IssuerSettings:
    """``issuer`` is ztai's own issuer URL; ``audience`` what its tokens are for (the gateway).
    Tokens live ``token_ttl_s`` (never more than ``MAX_TOKEN_TTL_S``)."""

    issuer: str
    audience: str = "ztai"
    token_ttl_s: int = 300
    leeway_s: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.token_ttl_s <= MAX_TOKEN_TTL_S:
            raise ValueError(f"token_ttl_s must be between 1 and {MAX_TOKEN_TTL_S}")


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token grants beyond who it names: the models (``scope``), how long (capped by the
    settings' TTL), and the session it belongs to."""

    scope: frozenset[str]
    ttl_s: int | None = None
    session_id: str | None = None


class TokenIssuer:
    """Signs with ``key``; ``retired`` public keys still verify tokens signed before a rotation."""

    def __init__(
        self,
        settings: IssuerSettings,
        key: SigningKey,
        clock: Clock,
        retired: Sequence[Key] = (),
        ids: Callable[[], str] = new_id,
    ) -> None:
        self.settings = settings
        self._key = key
        self._clock = clock
        self._retired = tuple(retired)
        self._ids = ids

    def issue(self, principal: Principal, grant: Grant) -> IssuedToken:
        """A signed token naming ``principal`` and, through ``act``, whoever it acts for."""
        now = int(self._clock.now())
        ttl = min(self.settings.token_ttl_s, grant.ttl_s or self.settings.token_ttl_s)
        jti = self._ids()
        claims = {
            **chain_claims(principal),
            **self._registered(now, ttl, jti),
            "scope": " ".join(sorted(grant.scope)),
        }
        if grant.session_id is not None:
            claims["sid"] = grant.session_id
        header = {"alg": self._key.algorithm, "kid": self._key.kid, "typ": TOKEN_TYPE}
        token = jwt.encode(header, claims, self._key.private, algorithms=[self._key.algorithm])
        return IssuedToken(Secret(token), jti, ttl, grant.scope)

    def _registered(self, now: int, ttl: int, jti: str) -> dict[str, Any]:
        issuer, audience = self.settings.issuer, self.settings.audience
        registered = {"iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + ttl}
        return {**registered, "jti": jti}

    def public_keys(self) -> tuple[Key, ...]:
        return (self._key.public(), *self._retired)

    def jwks(self) -> Mapping[str, Any]:
        """The public JWK Set, for anyone else who wants to verify ztai's tokens."""
        return jwks_document(self.public_keys())

    def trusted_issuer(self) -> TrustedIssuer:
        """ztai as one more issuer for the ``JwtVerifier``, with its local keys."""
        s = self.settings
        rules = ClaimRules(
            issuer=s.issuer,
            audiences=frozenset({s.audience}),
            leeway_s=s.leeway_s,
            required=frozenset({"sub", "jti", "iat"}),
            max_lifetime_s=MAX_TOKEN_TTL_S,
        )
        algorithms = tuple(dict.fromkeys(k.alg or self._key.algorithm for k in self.public_keys()))
        config = IssuerConfig(
            rules, algorithms, token_types=frozenset({TOKEN_TYPE}), role=IssuerRole.ZTAI
        )
        return TrustedIssuer(config, StaticKeySource(self.public_keys()))

"""The two checks every token passes once its key is chosen: the signature (joserfc), then the
registered claims (``iss``, ``aud``, ``exp``, ``nbf``, ``iat``) within a bounded leeway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import Key
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

from ztai.identity.compact import Unverified
from ztai.identity.failure import AuthCode, auth_failure

MAX_LEEWAY_S = 300
_TIME_CLAIMS = frozenset({"exp", "nbf", "iat"})
_CLAIM_CODES: Mapping[str, AuthCode] = {
    "iss": AuthCode.INVALID_ISSUER,
    "aud": AuthCode.INVALID_AUDIENCE,
    "nbf": AuthCode.TOKEN_NOT_YET_VALID,
    "iat": AuthCode.TOKEN_NOT_YET_VALID,
}


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """What the claims must say. ``iss``, ``aud`` and ``exp`` are always required; ``required``
    adds more. ``max_lifetime_s`` bounds ``exp - iat`` (and then ``iat`` is required)."""

    issuer: str
    audiences: frozenset[str]
    leeway_s: int = 60
    required: frozenset[str] = frozenset()
    max_lifetime_s: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.leeway_s <= MAX_LEEWAY_S:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY_S} seconds")
        if not self.issuer or not self.audiences:
            raise ValueError("an issuer and at least one audience are required")


def check_signature(token: Unverified, key: Key, registry: jws.JWSRegistry) -> None:
    """Raises ``invalid_signature`` unless ``key`` signed the token; the registry limits the
    algorithm to the allow-list and joserfc checks that the key type fits it."""
    try:
        valid = jws.validate_compact(token.signed, key, registry=registry)
    except JoseError:  # a registered header of the wrong type (``jku`` not a URL, ...)
        raise auth_failure(AuthCode.MALFORMED_TOKEN) from None
    if not valid:
        raise auth_failure(AuthCode.INVALID_SIGNATURE)


def check_claims(claims: Mapping[str, Any], rules: ClaimRules, now: float) -> None:
    """Raises ``AuthenticationFailed`` with the code of the first failing claim."""
    _check_time_types(claims)
    try:
        _registry(rules, now).validate(dict(claims))
    except ExpiredTokenError:
        raise auth_failure(AuthCode.TOKEN_EXPIRED) from None
    except MissingClaimError:
        raise auth_failure(AuthCode.MISSING_CLAIM) from None
    except InvalidClaimError as error:
        raise auth_failure(_CLAIM_CODES.get(error.claim, AuthCode.INVALID_CLAIM)) from None
    if rules.max_lifetime_s is not None and claims["exp"] - claims["iat"] > rules.max_lifetime_s:
        raise auth_failure(AuthCode.INVALID_CLAIM)


def _registry(rules: ClaimRules, now: float) -> JWTClaimsRegistry:
    options: dict[str, ClaimsOption] = {
        "iss": {"essential": True, "value": rules.issuer},
        "aud": {"essential": True, "values": sorted(rules.audiences)},
        "exp": {"essential": True},
    }
    required = rules.required | ({"iat"} if rules.max_lifetime_s is not None else set())
    for name in required - options.keys():
        options[name] = {"essential": True}
    return JWTClaimsRegistry(now=int(now), leeway=rules.leeway_s, **options)


def _check_time_types(claims: Mapping[str, Any]) -> None:
    """A time claim that is no number is invalid, not "not yet valid". (NaN and infinity never
    get here: the JSON parser refuses them.)"""
    for name in _TIME_CLAIMS & claims.keys():
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise auth_failure(AuthCode.INVALID_CLAIM)

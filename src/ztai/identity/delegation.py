"""A delegation chain in token claims (RFC 8693 ``act``) and back. Top-level claims describe the
subject (the user); ``act`` the current actor, with prior actors nested in its own ``act``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.identity.claims import optional_string, sign_in_time, string_set
from ztai.identity.failure import AuthCode, auth_failure

MAX_ACTORS = 4
SCOPE_ATTRIBUTE = "scope"


def chain_claims(principal: Principal) -> dict[str, Any]:
    """The claims describing ``principal`` and everyone it acts for. Token-specific fields (jti,
    expiry, scope) are the issuer's to add."""
    subject, *actors = principal.chain()
    claims = {"sub": subject.id, **_party(subject, "sub_iss")}
    act: dict[str, Any] | None = None
    for actor in actors:
        entry = {"sub": actor.id, **_party(actor, "iss")}
        act = entry if act is None else {**entry, "act": act}
    if act is not None:
        claims["act"] = act
    return claims


def _party(principal: Principal, issuer_claim: str) -> dict[str, Any]:
    claims: dict[str, Any] = {"kind": principal.kind.value}
    attributes = {k: v for k, v in principal.attributes.items() if k != SCOPE_ATTRIBUTE}
    optional: dict[str, Any] = {
        "groups": sorted(principal.groups),
        "amr": sorted(principal.amr),
        "acr": principal.acr,
        "sponsor": principal.sponsor,
        "attrs": attributes,
        issuer_claim: principal.issuer,
        "auth_time": int(principal.authenticated_at) if principal.authenticated_at else None,
    }
    claims.update({name: value for name, value in optional.items() if value})
    return claims


def chain_principal(claims: Mapping[str, Any], issuer: str) -> Principal:
    """The principal a ztai token names: the current actor, ``acting_for`` down to the subject;
    or the subject itself when nobody acts for it. ``invalid_claim`` for a malformed ``act`` or
    a chain of more than ``MAX_ACTORS`` actors."""
    principal = _principal(claims, "sub_iss", None)
    for entry in reversed(_actors(claims)):
        principal = _principal(entry, "iss", principal)
    return principal


def _actors(claims: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``act`` entries, current actor first."""
    actors: list[Mapping[str, Any]] = []
    entry = claims.get("act")
    while entry is not None:
        if not isinstance(entry, dict) or len(actors) == MAX_ACTORS:
            raise auth_failure(AuthCode.INVALID_CLAIM)
        actors.append(entry)
        entry = entry.get("act")
    return actors


def _principal(
    claims: Mapping[str, Any], issuer_claim: str, acting_for: Principal | None
) -> Principal:
    subject = optional_string(claims.get("sub"))
    if not subject:
        raise auth_failure(AuthCode.MISSING_CLAIM)
    return Principal(
        id=PrincipalId(subject),
        kind=_kind(claims.get("kind")),
        groups=string_set(claims.get("groups")),
        attributes=_attributes(claims.get("attrs")),
        auth_method="delegated",
        amr=string_set(claims.get("amr")),
        acr=optional_string(claims.get("acr")),
        issuer=optional_string(claims.get(issuer_claim)),
        sponsor=optional_string(claims.get("sponsor")),
        authenticated_at=sign_in_time({"auth_time": claims.get("auth_time")}),
        acting_for=acting_for,
    )


def _kind(value: object) -> PrincipalKind:
    try:
        return PrincipalKind(optional_string(value) or "")
    except ValueError:
        raise auth_failure(AuthCode.INVALID_CLAIM) from None


def _attributes(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    raise auth_failure(AuthCode.INVALID_CLAIM)

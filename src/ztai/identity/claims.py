"""From verified claims to a Principal, as configured per issuer: which claims name the subject,
its groups (``groups``, ``roles``, ``realm_access.roles``), amr, acr, kind and attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.identity.failure import AuthCode, auth_failure


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """Claim names, or dotted paths into nested objects (a claim whose own name contains dots,
    like ``https://example.com/roles``, is found first). ``groups`` are unioned. ``kind`` names a
    claim holding ``user``/``agent``/``service``; without it every principal is ``default_kind``.
    ``attributes`` maps an attribute name to the claim it comes from (scalars only).
    ``subject_prefix`` keeps two issuers' subjects apart (e.g. ``"okta:"``)."""

    subject: str = "sub"
    groups: tuple[str, ...] = ("groups", "roles")
    amr: str = "amr"
    acr: str = "acr"
    session: str = "sid"
    kind: str | None = None
    default_kind: PrincipalKind = PrincipalKind.USER
    attributes: Mapping[str, str] = field(default_factory=dict)
    subject_prefix: str = ""


def claim_at(claims: Mapping[str, Any], path: str) -> object:
    """The claim named ``path``, else the value at its dotted path, else None."""
    if path in claims:
        return claims[path]
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def string_set(value: object) -> frozenset[str]:
    """A claim that is a string or a list of strings; ``invalid_claim`` for anything else."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise auth_failure(AuthCode.INVALID_CLAIM)


def optional_string(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise auth_failure(AuthCode.INVALID_CLAIM)


def map_principal(claims: Mapping[str, Any], mapping: ClaimMapping, issuer: str) -> Principal:
    """The principal a verified token of ``issuer`` describes (``auth_method`` ``jwt``, its
    ``jti`` as ``credential_id``). Raises ``AuthenticationFailed`` for a missing subject, an
    unknown kind or a claim of the wrong type."""
    subject = optional_string(claim_at(claims, mapping.subject))
    if not subject:
        raise auth_failure(AuthCode.MISSING_CLAIM)
    groups = frozenset().union(*(string_set(claim_at(claims, path)) for path in mapping.groups))
    return Principal(
        id=PrincipalId(mapping.subject_prefix + subject),
        kind=_kind(claims, mapping),
        groups=groups,
        attributes=_attributes(claims, mapping.attributes),
        auth_method="jwt",
        credential_id=optional_string(claims.get("jti")) or "",
        amr=string_set(claim_at(claims, mapping.amr)),
        acr=optional_string(claim_at(claims, mapping.acr)),
        issuer=issuer,
        session_id=optional_string(claim_at(claims, mapping.session)),
        expires_at=float(claims["exp"]) if "exp" in claims else None,
        authenticated_at=sign_in_time(claims),
    )


def sign_in_time(claims: Mapping[str, Any]) -> float | None:
    """``auth_time`` (OIDC: when the user authenticated), else ``iat``; ``invalid_claim`` for a
    value that is not a number."""
    value = claims.get("auth_time", claims.get("iat"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise auth_failure(AuthCode.INVALID_CLAIM)
    return float(value)


def _kind(claims: Mapping[str, Any], mapping: ClaimMapping) -> PrincipalKind:
    if mapping.kind is None:
        return mapping.default_kind
    value = optional_string(claim_at(claims, mapping.kind))
    if value is None:
        return mapping.default_kind
    try:
        return PrincipalKind(value)
    except ValueError:
        raise auth_failure(AuthCode.INVALID_CLAIM) from None


def _attributes(claims: Mapping[str, Any], paths: Mapping[str, str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, path in paths.items():
        value = claim_at(claims, path)
        if value is None:
            continue
        if isinstance(value, bool | int | float | str):
            attributes[name] = str(value).lower() if isinstance(value, bool) else str(value)
        else:
            raise auth_failure(AuthCode.INVALID_CLAIM)
    return attributes

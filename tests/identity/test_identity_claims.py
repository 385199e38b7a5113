"""Claim mapping per issuer: which claims become the principal's id, kind, groups, amr, acr,
session and attributes; claims of the wrong shape are refused, not guessed at."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import RSAKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import PrincipalKind
from ztai.identity.claims import ClaimMapping, claim_at, map_principal
from ztai.identity.keyset import StaticKeySource
from ztai.identity.verifier import JwtVerifier, TrustedIssuer

from .conftest import idp_config
from .support import IDP, idp_claims, sign

KEYCLOAK = ClaimMapping(groups=("groups", "realm_access.roles", "resource_access.ztai.roles"))
AUTH0 = ClaimMapping(groups=("https://example.com/roles",))
AZURE = ClaimMapping(subject="oid", groups=("groups", "roles"), subject_prefix="aad:")
TYPED = ClaimMapping(kind="principal_type", attributes={"dept": "department", "org": "org.id"})

MAPPINGS: dict[str, tuple[ClaimMapping, dict[str, Any], dict[str, Any]]] = {
    "groups list": (ClaimMapping(), {"groups": ["a", "b"]}, {"groups": {"a", "b"}}),
    "roles list": (ClaimMapping(), {"roles": ["admin"]}, {"groups": {"admin"}}),
    "groups and roles unioned": (
        ClaimMapping(), {"groups": ["a"], "roles": ["a", "r"]}, {"groups": {"a", "r"}}),
    "a single group as a string": (ClaimMapping(), {"groups": "solo"}, {"groups": {"solo"}}),
    "no groups at all": (ClaimMapping(), {}, {"groups": frozenset()}),
    "unmapped claims ignored": (ClaimMapping(groups=()), {"groups": ["a"]}, {"groups": set()}),
    "keycloak realm and client roles": (
        KEYCLOAK,
        {"realm_access": {"roles": ["r1"]}, "resource_access": {"ztai": {"roles": ["c1"]}}},
        {"groups": {"r1", "c1"}},
    ),
    "a dotted path that is not there": (
        KEYCLOAK, {"realm_access": "flat"}, {"groups": frozenset()}),
    "a claim name containing dots": (
        AUTH0, {"https://example.com/roles": ["editor"]}, {"groups": {"editor"}}),
    "amr list and acr": (
        ClaimMapping(),
        {"amr": ["pwd", "mfa"], "acr": "urn:mace:incommon:iap:silver"},
        {"amr": {"pwd", "mfa"}, "acr": "urn:mace:incommon:iap:silver"},
    ),
    "amr as one string": (ClaimMapping(), {"amr": "hwk"}, {"amr": {"hwk"}}),
    "no amr, no acr": (ClaimMapping(), {}, {"amr": frozenset(), "acr": None}),
    "session id": (ClaimMapping(), {"sid": "sess-1"}, {"session_id": "sess-1"}),
    "azure oid with a prefix": (
        AZURE, {"oid": "0000-1111", "sub": "pairwise"}, {"id": "aad:0000-1111"}),
    "default kind": (ClaimMapping(), {}, {"kind": PrincipalKind.USER}),
    "default kind service": (
        ClaimMapping(default_kind=PrincipalKind.SERVICE), {}, {"kind": PrincipalKind.SERVICE}),
    "kind from a claim": (TYPED, {"principal_type": "agent"}, {"kind": PrincipalKind.AGENT}),
    "kind claim absent": (TYPED, {}, {"kind": PrincipalKind.USER}),
    "attributes": (
        TYPED,
        {"department": "eng", "org": {"id": 42}},
        {"attributes": {"dept": "eng", "org": "42"}},
    ),
    "boolean attribute": (
        ClaimMapping(attributes={"verified": "email_verified"}),
        {"email_verified": True},
        {"attributes": {"verified": "true"}},
    ),
}

REFUSALS: dict[str, tuple[ClaimMapping, dict[str, Any], str]] = {
    "no subject": (ClaimMapping(), {"sub": None}, "missing_claim"),
    "empty subject": (ClaimMapping(), {"sub": ""}, "missing_claim"),
    "mapped subject absent": (AZURE, {}, "missing_claim"),
    "subject not a string": (ClaimMapping(), {"sub": 12}, "invalid_claim"),
    "groups not strings": (ClaimMapping(), {"groups": ["a", 2]}, "invalid_claim"),
    "groups an object": (ClaimMapping(), {"groups": {"a": 1}}, "invalid_claim"),
    "amr a number": (ClaimMapping(), {"amr": 2}, "invalid_claim"),
    "acr a list": (ClaimMapping(), {"acr": ["x"]}, "invalid_claim"),
    "unknown kind": (TYPED, {"principal_type": "robot"}, "invalid_claim"),
    "attribute a list": (TYPED, {"department": ["a"]}, "invalid_claim"),
}


def base(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "alice", **changes}
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(("mapping", "claims", "expected"), MAPPINGS.values(), ids=MAPPINGS.keys())
def test_claims_map_to_the_principal(
    mapping: ClaimMapping, claims: dict[str, Any], expected: dict[str, Any]
) -> None:
    principal = map_principal(base(**claims), mapping, IDP)
    for name, value in expected.items():
        assert getattr(principal, name) == value, name


@pytest.mark.parametrize(("mapping", "claims", "code"), REFUSALS.values(), ids=REFUSALS.keys())
def test_malformed_claims_are_refused(
    mapping: ClaimMapping, claims: dict[str, Any], code: str
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        map_principal(base(**claims), mapping, IDP)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a", 1), ("b.c", 2), ("b.x", None), ("a.b", None), ("b.c.d", None), ("d.e", 3)],
)
def test_claim_paths(path: str, expected: object) -> None:
    claims = {"a": 1, "b": {"c": 2}, "d.e": 3}
    assert claim_at(claims, path) == expected


@pytest.mark.anyio
async def test_the_mapping_is_configured_per_issuer(clock: FixedClock, rsa_key: RSAKey) -> None:
    config = idp_config(mapping=KEYCLOAK)
    verifier = JwtVerifier([TrustedIssuer(config, StaticKeySource([rsa_key]))], clock)
    claims = idp_claims(groups=None, realm_access={"roles": ["ops"]}, amr=["otp"], acr="2")
    principal = await verifier.verify(sign(rsa_key, claims))
    assert (principal.groups, principal.amr, principal.acr) == ({"ops"}, {"otp"}, "2")

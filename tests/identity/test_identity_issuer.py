"""ztai's own tokens: the signing key file, what a token looks like, the delegation chain
surviving the round trip, key rotation, and ztai tokens that were not made by ztai."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.identity.issuer import Grant, IssuerSettings, TokenIssuer
from ztai.identity.keyset import StaticKeySource
from ztai.identity.signing import SigningKey, generate_signing_key_file
from ztai.identity.verifier import JwtVerifier, TrustedIssuer

from .conftest import idp_config
from .support import AUDIENCE, NOW, ZTAI, sign, unverified_claims, unverified_header

pytestmark = pytest.mark.anyio

USER = Principal(
    PrincipalId("alice"), PrincipalKind.USER, frozenset({"staff"}), {"dept": "eng"},
    amr=frozenset({"pwd", "mfa"}), acr="aal2", issuer="https://idp.example.com",
)
AGENT = Principal(PrincipalId("agent-1"), PrincipalKind.AGENT, frozenset({"bots"}),
                  sponsor="alice", issuer=ZTAI)
SERVICE = Principal(PrincipalId("svc"), PrincipalKind.SERVICE, issuer=ZTAI)


def acting(actor: Principal, subject: Principal) -> Principal:
    return Principal(actor.id, actor.kind, actor.groups, actor.attributes, amr=actor.amr,
                     acr=actor.acr, issuer=actor.issuer, sponsor=actor.sponsor, acting_for=subject)


CHAINS = {
    "a user alone": USER,
    "an agent alone": AGENT,
    "an agent for a user": acting(AGENT, USER),
    "two agents for a user": acting(
        Principal(PrincipalId("agent-2"), PrincipalKind.AGENT, sponsor="bob", issuer=ZTAI),
        acting(AGENT, USER),
    ),
    "a service for an agent": acting(SERVICE, AGENT),
}


def essentials(principal: Principal) -> list[tuple[Any, ...]]:
    return [
        (p.id, p.kind, p.groups, {k: v for k, v in p.attributes.items() if k != "scope"}, p.amr,
         p.acr, p.sponsor, p.issuer)
        for p in principal.chain()
    ]


def ztai_verifier(issuer: TokenIssuer, clock: FixedClock) -> JwtVerifier:
    return JwtVerifier([issuer.trusted_issuer()], clock)


@pytest.mark.parametrize("principal", CHAINS.values(), ids=CHAINS.keys())
async def test_the_chain_survives_the_round_trip(
    token_issuer: TokenIssuer, clock: FixedClock, principal: Principal
) -> None:
    issued = token_issuer.issue(principal, Grant(frozenset({"m"}), session_id="s"))
    verified = await ztai_verifier(token_issuer, clock).verify(issued.token.reveal())
    assert essentials(verified) == essentials(principal)
    assert verified.session_id == "s"
    assert verified.expires_at == NOW + 300


def test_the_token_header_and_claims(token_issuer: TokenIssuer, signing_key: SigningKey) -> None:
    issued = token_issuer.issue(AGENT, Grant(frozenset({"m"}), ttl_s=60))
    header = unverified_header(issued.token.reveal())
    assert header == {"alg": "ES256", "kid": signing_key.kid, "typ": "at+jwt"}
    claims = unverified_claims(issued.token.reveal())
    assert {k: claims[k] for k in ("iss", "aud", "iat", "nbf", "exp", "jti")} == {
        "iss": ZTAI, "aud": AUDIENCE, "iat": NOW, "nbf": NOW, "exp": NOW + 60, "jti": issued.jti}


def test_the_ttl_is_capped(token_issuer: TokenIssuer) -> None:
    assert token_issuer.issue(AGENT, Grant(frozenset({"m"}), ttl_s=10_000)).expires_in == 300


def test_ids_are_injected(signing_key: SigningKey, clock: FixedClock) -> None:
    issuer = TokenIssuer(IssuerSettings(ZTAI), signing_key, clock, ids=lambda: "fixed-id")
    assert issuer.issue(AGENT, Grant(frozenset())).jti == "fixed-id"


def test_the_published_key_set_is_public(
    token_issuer: TokenIssuer, signing_key: SigningKey
) -> None:
    (key,) = token_issuer.jwks()["keys"]
    assert "d" not in key
    assert (key["kid"], key["alg"], key["use"], key["crv"]) == (
        signing_key.kid, "ES256", "sig", "P-256")


@pytest.mark.parametrize("curve", ["Ed25519", "P-256"])
async def test_key_files(tmp_path: Path, clock: FixedClock, curve: str) -> None:
    path = tmp_path / "ztai-token.key"
    created = generate_signing_key_file(path, curve)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = SigningKey.from_pem_file(path)
    assert loaded.kid == created.kid
    assert "PRIVATE" not in repr(loaded)
    assert loaded.kid in repr(loaded)
    with pytest.raises(FileExistsError):
        generate_signing_key_file(path, curve)
    issuer = TokenIssuer(IssuerSettings(ZTAI), loaded, clock)
    token = issuer.issue(AGENT, Grant(frozenset({"m"}))).token.reveal()
    assert (await ztai_verifier(issuer, clock).verify(token)).id == "agent-1"


def test_unusable_key_files(tmp_path: Path, rsa_key: RSAKey) -> None:
    rsa = tmp_path / "rsa.key"
    rsa.write_bytes(rsa_key.as_pem(private=True))
    public = tmp_path / "public.pem"
    public.write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=False))
    for path in (rsa, public):
        with pytest.raises(ValueError, match="no unencrypted"):
            SigningKey.from_pem_file(path)
    with pytest.raises(ValueError, match="signing key"):
        SigningKey(ECKey.generate_key("P-384"))


async def test_rotation_keeps_old_tokens_valid_even_across_algorithms(
    signing_key: SigningKey, clock: FixedClock
) -> None:
    old = TokenIssuer(IssuerSettings(ZTAI), signing_key, clock)
    old_token = old.issue(AGENT, Grant(frozenset({"m"}))).token.reveal()
    new_key = SigningKey(OKPKey.generate_key("Ed25519"))
    new = TokenIssuer(IssuerSettings(ZTAI), new_key, clock, retired=[signing_key.public()])
    verifier = ztai_verifier(new, clock)
    assert (await verifier.verify(old_token)).id == "agent-1"
    new_token = new.issue(AGENT, Grant(frozenset({"m"}))).token.reveal()
    assert unverified_header(new_token)["kid"] == new_key.kid
    assert (await verifier.verify(new_token)).id == "agent-1"
    without_old = ztai_verifier(TokenIssuer(IssuerSettings(ZTAI), new_key, clock), clock)
    with pytest.raises(AuthenticationFailed) as caught:
        await without_old.verify(old_token)
    assert caught.value.code == "unsupported_algorithm"  # ES256 left with the retired key


def ztai_claims(**changes: Any) -> dict[str, Any]:
    claims = {"iss": ZTAI, "aud": AUDIENCE, "sub": "agent-1", "kind": "agent", "iat": NOW,
              "exp": NOW + 60, "jti": "j", **changes}
    return {k: v for k, v in claims.items() if v is not None}


def deep_act(depth: int) -> dict[str, Any]:
    act: dict[str, Any] = {"sub": "a0", "kind": "agent"}
    for n in range(1, depth):
        act = {"sub": f"a{n}", "kind": "agent", "act": act}
    return act


FORGED: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "wrong typ": ({"typ": "JWT"}, {}, "unsupported_token_type"),
    "no typ": ({"typ": None}, {}, "unsupported_token_type"),
    "lifetime over the maximum": ({}, {"exp": NOW + 4000}, "invalid_claim"),
    "no jti": ({}, {"jti": None}, "missing_claim"),
    "no iat": ({}, {"iat": None}, "missing_claim"),
    "act not an object": ({}, {"act": "agent-2"}, "invalid_claim"),
    "act without sub": ({}, {"act": {"kind": "agent"}}, "missing_claim"),
    "act of an unknown kind": ({}, {"act": {"sub": "x", "kind": "robot"}}, "invalid_claim"),
    "act too deep": ({}, {"act": deep_act(5)}, "invalid_claim"),
    "attrs not strings": ({}, {"attrs": {"a": 1}}, "invalid_claim"),
    "no kind": ({}, {"kind": None}, "invalid_claim"),
}


@pytest.mark.parametrize(("header", "claims", "code"), FORGED.values(), ids=FORGED.keys())
async def test_malformed_ztai_tokens_are_refused(
    token_issuer: TokenIssuer,
    signing_key: SigningKey,
    clock: FixedClock,
    header: dict[str, Any],
    claims: dict[str, Any],
    code: str,
) -> None:
    token = sign(signing_key.private, ztai_claims(**claims), alg="ES256", kid=signing_key.kid,
                 **{"typ": "at+jwt", **header})
    with pytest.raises(AuthenticationFailed) as caught:
        await ztai_verifier(token_issuer, clock).verify(token)
    assert caught.value.code == code


async def test_the_type_may_be_written_as_a_media_type(
    token_issuer: TokenIssuer, signing_key: SigningKey, clock: FixedClock
) -> None:
    token = sign(signing_key.private, ztai_claims(), alg="ES256", kid=signing_key.kid,
                 typ="application/AT+JWT")
    assert (await ztai_verifier(token_issuer, clock).verify(token)).id == "agent-1"


async def test_four_actors_are_allowed(
    token_issuer: TokenIssuer, signing_key: SigningKey, clock: FixedClock
) -> None:
    token = sign(signing_key.private, ztai_claims(act=deep_act(4)), alg="ES256",
                 kid=signing_key.kid, typ="at+jwt")
    principal = await ztai_verifier(token_issuer, clock).verify(token)
    assert [p.id for p in principal.chain()] == ["agent-1", "a0", "a1", "a2", "a3"]


async def test_an_idp_key_cannot_sign_as_ztai(
    token_issuer: TokenIssuer, rsa_key: RSAKey, clock: FixedClock
) -> None:
    idp = TrustedIssuer(idp_config(), StaticKeySource([rsa_key]))
    verifier = JwtVerifier([idp, token_issuer.trusted_issuer()], clock)
    token = sign(rsa_key, ztai_claims(), typ="at+jwt")
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(token)
    assert caught.value.code == "unsupported_algorithm"


def test_settings_bounds() -> None:
    for ttl in (0, 3601):
        with pytest.raises(ValueError, match="token_ttl_s"):
            IssuerSettings(ZTAI, token_ttl_s=ttl)

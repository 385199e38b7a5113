"""The JWT attack suite: every forged, stale, misdirected or oversized token is refused with its
own code, and the message never echoes the token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
import pytest
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import PrincipalKind
from ztai.core.secret import Secret
from ztai.identity.header import BearerCredential
from ztai.identity.keyset import StaticKeySource
from ztai.identity.verifier import JwtVerifier, TrustedIssuer

from .conftest import idp_config
from .support import IDP, NOW, b64, forge, hs256, idp_claims, public_jwk, rs256, sign

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Keys:
    rsa: RSAKey
    other: RSAKey
    ec: ECKey
    ed: OKPKey


Forger = Callable[[Keys], str]
RS256_HEADER = orjson.dumps({"alg": "RS256"})
HUGE_EXP = b'{"exp": 1e999}'


def _tamper_payload(keys: Keys) -> str:
    header, _, signature = sign(keys.rsa, idp_claims()).split(".")
    payload = b64(orjson.dumps(idp_claims(sub="root")))
    return f"{header}.{payload}.{signature}"


def _tamper_signature(keys: Keys) -> str:
    token = sign(keys.rsa, idp_claims())
    last = "A" if token[-2] != "A" else "B"
    return token[:-2] + last + token[-1]


def _rsa_pem_as_hmac_secret(keys: Keys) -> str:
    header = {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}
    return forge(header, idp_claims(sub="root"), hs256(keys.rsa.as_pem(private=False)))


ATTACKS: dict[str, tuple[Forger, str]] = {
    "alg none, no signature": (
        lambda k: forge({"alg": "none"}, idp_claims()), "unsupported_algorithm"),
    "alg none, junk signature": (
        lambda k: forge({"alg": "none"}, idp_claims(), lambda _: b"junk"), "unsupported_algorithm"),
    "alg None spelled oddly": (
        lambda k: forge({"alg": "None", "kid": "rsa-1"}, idp_claims()), "unsupported_algorithm"),
    "HS256 keyed with the RSA public key": (_rsa_pem_as_hmac_secret, "unsupported_algorithm"),
    "algorithm outside the allow-list": (
        lambda k: sign(k.rsa, idp_claims(), alg="RS512"), "unsupported_algorithm"),
    "ES256 header naming the RSA key": (
        lambda k: sign(k.ec, idp_claims(), alg="ES256", kid="rsa-1"), "unknown_key"),
    "unknown kid": (lambda k: sign(k.other, idp_claims()), "unknown_key"),
    "another key claiming a known kid": (
        lambda k: sign(k.other, idp_claims(), kid="rsa-1"), "invalid_signature"),
    "tampered payload": (_tamper_payload, "invalid_signature"),
    "tampered signature": (_tamper_signature, "invalid_signature"),
    "expired beyond the leeway": (
        lambda k: sign(k.rsa, idp_claims(exp=NOW - 60)), "token_expired"),
    "not yet valid beyond the leeway": (
        lambda k: sign(k.rsa, idp_claims(nbf=NOW + 61)), "token_not_yet_valid"),
    "issued in the future": (
        lambda k: sign(k.rsa, idp_claims(iat=NOW + 3600)), "token_not_yet_valid"),
    "wrong audience": (lambda k: sign(k.rsa, idp_claims(aud="other-app")), "invalid_audience"),
    "wrong audience in a list": (
        lambda k: sign(k.rsa, idp_claims(aud=["a", "b"])), "invalid_audience"),
    "wrong issuer": (
        lambda k: sign(k.rsa, idp_claims(iss="https://evil.example")), "invalid_issuer"),
    "issuer not a string": (lambda k: sign(k.rsa, idp_claims(iss=["x"])), "invalid_issuer"),
    "no issuer": (lambda k: sign(k.rsa, idp_claims(iss=None)), "invalid_issuer"),
    "no exp": (lambda k: sign(k.rsa, idp_claims(exp=None)), "missing_claim"),
    "no aud": (lambda k: sign(k.rsa, idp_claims(aud=None)), "missing_claim"),
    "no sub": (lambda k: sign(k.rsa, idp_claims(sub=None)), "missing_claim"),
    "exp not a number": (lambda k: sign(k.rsa, idp_claims(exp="tomorrow")), "invalid_claim"),
    "nbf not a number": (lambda k: sign(k.rsa, idp_claims(nbf=True)), "invalid_claim"),
    "sub not a string": (lambda k: sign(k.rsa, idp_claims(sub=7)), "invalid_claim"),
    "groups not strings": (lambda k: sign(k.rsa, idp_claims(groups=[1])), "invalid_claim"),
    "crit header": (
        lambda k: forge({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1},
                        idp_claims(), rs256(k.rsa)), "unsupported_header"),
    "unencoded payload (b64)": (
        lambda k: forge({"alg": "RS256", "kid": "rsa-1", "b64": False}, idp_claims(),
                        rs256(k.rsa)), "unsupported_header"),
    "oversized": (
        lambda k: sign(k.rsa, idp_claims(pad="x" * 9000)), "token_too_large"),
    "two segments": (lambda k: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0", "malformed_token"),
    "JWE shape": (lambda k: "a.b.c.d.e", "malformed_token"),
    "header not JSON": (lambda k: f"{b64(b'not json')}.{b64(b'{}')}.AAAA", "malformed_token"),
    "header a JSON list": (lambda k: f"{b64(b'[1]')}.{b64(b'{}')}.AAAA", "malformed_token"),
    "claims a JSON list": (lambda k: f"{b64(RS256_HEADER)}.{b64(b'[1]')}.AAAA", "malformed_token"),
    "claims not JSON": (
        lambda k: f"{b64(RS256_HEADER)}.{b64(b'nope')}.AAAA", "malformed_token"),
    "exp beyond a double": (
        lambda k: f"{b64(RS256_HEADER)}.{b64(HUGE_EXP)}.AAAA", "malformed_token"),
    "alg not a string": (
        lambda k: forge({"alg": ["RS256"]}, idp_claims(), rs256(k.rsa)), "malformed_token"),
    "kid not a string": (
        lambda k: forge({"alg": "RS256", "kid": 1}, idp_claims(), rs256(k.rsa)),
        "malformed_token"),
    "jku not a URL": (
        lambda k: forge({"alg": "RS256", "kid": "rsa-1", "jku": 5}, idp_claims(), rs256(k.rsa)),
        "malformed_token"),
}


@pytest.fixture
def keys(rsa_key: RSAKey, other_rsa_key: RSAKey, ec_key: ECKey, ed_key: OKPKey) -> Keys:
    return Keys(rsa_key, other_rsa_key, ec_key, ed_key)


@pytest.mark.parametrize(("forger", "code"), ATTACKS.values(), ids=ATTACKS.keys())
async def test_attack_is_refused_with_its_code(
    verifier: JwtVerifier, keys: Keys, forger: Forger, code: str
) -> None:
    token = forger(keys)
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.authenticate(BearerCredential(Secret(token)))
    assert caught.value.code == code
    assert token not in str(caught.value)
    assert all(part not in caught.value.message for part in token.split(".") if len(part) > 8)


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"exp": NOW - 59}, True),
        ({"exp": NOW - 60}, False),
        ({"nbf": NOW + 60}, True),
        ({"nbf": NOW + 61}, False),
        ({"iat": NOW + 60}, True),
    ],
)
async def test_leeway_is_exact(
    verifier: JwtVerifier, rsa_key: RSAKey, changes: dict[str, int], accepted: bool
) -> None:
    token = sign(rsa_key, idp_claims(**changes))
    if accepted:
        assert (await verifier.verify(token)).id == "alice"
    else:
        with pytest.raises(AuthenticationFailed):
            await verifier.verify(token)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_valid_tokens_are_accepted(
    verifier: JwtVerifier, rsa_key: RSAKey, ec_key: ECKey, alg: str
) -> None:
    key = rsa_key if alg == "RS256" else ec_key
    principal = await verifier.verify(sign(key, idp_claims(sid="s-9"), alg=alg))
    assert principal.id == "alice"
    assert principal.kind is PrincipalKind.USER
    assert principal.groups == {"staff"}
    assert principal.auth_method == "jwt"
    assert principal.issuer == IDP
    assert principal.credential_id == "idp-token-1"
    assert principal.session_id == "s-9"
    assert principal.expires_at == NOW + 300


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "http://127.0.0.1:9/jwks"},
        {"x5u": "http://127.0.0.1:9/cert"},
        {"jwk": {"kty": "oct", "k": "c2VjcmV0"}},
        {"x5c": ["MIIB"], "nonce": "vendor-field"},
    ],
    ids=["jku", "x5u", "jwk", "x5c"],
)
async def test_key_hints_in_the_header_are_ignored(
    verifier: JwtVerifier, rsa_key: RSAKey, header: dict[str, object]
) -> None:
    """A genuine token carrying key hints is verified with the configured key alone."""
    assert (await verifier.verify(sign(rsa_key, idp_claims(), **header))).id == "alice"


@pytest.mark.parametrize("hint", ["jku", "x5u", "jwk"])
async def test_a_key_named_by_the_token_is_never_used_or_fetched(
    verifier: JwtVerifier, rsa_key: RSAKey, other_rsa_key: RSAKey, jwks_server, hint: str
) -> None:
    """The attacker signs with their own key and points at it three ways; ztai fetches nothing
    and refuses the token, whether it names the attacker's kid or the genuine one."""
    jwks_server.document = {"keys": [public_jwk(other_rsa_key)]}
    values = {"jku": f"{jwks_server.url}/jwks", "x5u": f"{jwks_server.url}/cert",
              "jwk": public_jwk(other_rsa_key)}
    for kid, code in (("rsa-2", "unknown_key"), ("rsa-1", "invalid_signature")):
        token = sign(other_rsa_key, idp_claims(sub="root"), kid=kid, **{hint: values[hint]})
        with pytest.raises(AuthenticationFailed) as caught:
            await verifier.verify(token)
        assert caught.value.code == code
    assert jwks_server.hits == []


async def test_small_rsa_keys_are_not_trusted(clock: FixedClock) -> None:
    with pytest.warns(SecurityWarning):
        weak = RSAKey.generate_key(1024, parameters={"kid": "weak"})
    verifier = JwtVerifier([TrustedIssuer(idp_config(), StaticKeySource([weak]))], clock)
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(sign(weak, idp_claims()))
    assert caught.value.code == "unknown_key"


async def test_a_symmetric_key_in_the_key_set_is_dropped(
    clock: FixedClock, rsa_key: RSAKey
) -> None:
    secret = OctKey.import_key(b"a-shared-secret-of-32-bytes-long", parameters={"kid": "rsa-1"})
    source = StaticKeySource([secret])
    assert list(await source.current()) == []


async def test_a_single_key_needs_no_kid(clock: FixedClock, ed_key: OKPKey) -> None:
    config = idp_config(algorithms=("Ed25519",))
    verifier = JwtVerifier([TrustedIssuer(config, StaticKeySource([ed_key]))], clock)
    token = sign(ed_key, idp_claims(), alg="Ed25519", kid=None)
    assert (await verifier.verify(token)).id == "alice"


async def test_without_a_kid_two_fitting_keys_are_ambiguous(
    clock: FixedClock, rsa_key: RSAKey, other_rsa_key: RSAKey
) -> None:
    source = StaticKeySource([rsa_key, other_rsa_key])
    verifier = JwtVerifier([TrustedIssuer(idp_config(), source)], clock)
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(sign(rsa_key, idp_claims(), kid=None))
    assert caught.value.code == "unknown_key"


async def test_the_size_limit_is_configurable(clock: FixedClock, rsa_key: RSAKey) -> None:
    issuer = TrustedIssuer(idp_config(), StaticKeySource([rsa_key]))
    verifier = JwtVerifier([issuer], clock, max_token_bytes=600)
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(sign(rsa_key, idp_claims()))
    assert caught.value.code == "token_too_large"

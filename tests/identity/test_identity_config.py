"""Configuration that would weaken verification is refused when it is built, not at the first
token: symmetric or ``none`` algorithms, unbounded leeway, duplicate issuers, key files without
a usable key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from joserfc.jwk import ECKey, RSAKey

from ztai.core.clock import FixedClock
from ztai.identity.algorithms import check_algorithms, fits
from ztai.identity.compact import CompactParser
from ztai.identity.failure import AuthCode, auth_failure, oauth_error
from ztai.identity.keyset import StaticKeySource, jwks_document, load_jwks_file
from ztai.identity.validation import ClaimRules
from ztai.identity.verifier import IssuerConfig, JwtVerifier, TrustedIssuer

from .conftest import idp_config
from .support import AUDIENCE, IDP, idp_claims, public_jwk, sign


@pytest.mark.parametrize(
    "algorithms",
    [(), ("none",), ("HS256",), ("RS256", "HS512"), ("EdDSA",), ("ES256K",), ("rs256",)],
)
def test_only_asymmetric_algorithms_can_be_allowed(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="algorithm"):
        check_algorithms(algorithms)
    with pytest.raises(ValueError, match="algorithm"):
        IssuerConfig(ClaimRules(IDP, frozenset({AUDIENCE})), algorithms)


def test_a_key_fits_only_asymmetric_algorithms(rsa_key: RSAKey, ec_key: ECKey) -> None:
    assert fits(rsa_key, "RS256")
    assert fits(rsa_key, "PS512")
    assert not fits(rsa_key, "HS256")
    assert not fits(rsa_key, "none")
    assert not fits(rsa_key, "ES256")
    assert fits(ec_key, "ES256")
    assert not fits(ec_key, "ES384")


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({"leeway_s": 0}, True),
        ({"leeway_s": 300}, True),
        ({"leeway_s": 301}, False),
        ({"leeway_s": -1}, False),
        ({"audiences": frozenset()}, False),
        ({"issuer": ""}, False),
    ],
)
def test_claim_rules_bounds(changes: dict[str, Any], valid: bool) -> None:
    arguments = {"issuer": IDP, "audiences": frozenset({AUDIENCE}), **changes}
    if valid:
        assert ClaimRules(**arguments).leeway_s == changes["leeway_s"]
    else:
        with pytest.raises(ValueError, match=r"leeway|audience"):
            ClaimRules(**arguments)


def test_an_issuer_is_configured_once(clock: FixedClock, rsa_key: RSAKey) -> None:
    issuer = TrustedIssuer(idp_config(), StaticKeySource([rsa_key]))
    with pytest.raises(ValueError, match="twice"):
        JwtVerifier([issuer, issuer], clock)


def test_the_token_size_limit_is_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        CompactParser(0)


@pytest.mark.anyio
async def test_a_jwks_file(
    tmp_path: Path, clock: FixedClock, rsa_key: RSAKey, ec_key: ECKey
) -> None:
    path = tmp_path / "jwks.json"
    path.write_bytes(orjson.dumps(jwks_document([rsa_key, ec_key])))
    assert "d" not in orjson.loads(path.read_bytes())["keys"][0]
    verifier = JwtVerifier([TrustedIssuer(idp_config(), load_jwks_file(path))], clock)
    assert (await verifier.verify(sign(ec_key, idp_claims(), alg="ES256"))).id == "alice"


@pytest.mark.parametrize(
    "document",
    [{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, {"keys": []}, {"keys": "x"}, [1]],
)
def test_a_jwks_file_without_usable_keys(tmp_path: Path, document: object) -> None:
    path = tmp_path / "jwks.json"
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(ValueError, match=r"JWK|key"):
        load_jwks_file(path)


@pytest.mark.anyio
async def test_private_keys_in_a_key_set_are_used_as_public(ec_key: ECKey) -> None:
    source = StaticKeySource([ec_key])
    (key,) = await source.current()
    assert not key.is_private
    assert public_jwk(key) == public_jwk(ec_key)


@pytest.mark.parametrize("code", list(AuthCode))
def test_every_code_has_a_short_message(code: AuthCode) -> None:
    error = auth_failure(code)
    assert error.code == code.value
    assert 0 < len(error.message) <= 60
    assert oauth_error(code.value)


def test_unknown_codes_are_invalid_grant() -> None:
    assert oauth_error("something_else") == "invalid_grant"

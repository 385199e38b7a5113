"""An agent's registered key: a public asymmetric JWK for verifying its signatures (RSA of 2048
bits or more, EC P-256 or P-384, OKP Ed25519). Private, symmetric, weak or unreadable keys are
refused, so a secret is never stored as if it were public."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from ztai.core.errors import BadRequest

CURVES = {"EC": ("P-256", "P-384"), "OKP": ("Ed25519",)}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048


def public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The key as it will be stored (its public members); ``BadRequest`` naming ``public_jwk``
    if it is not a public signing key of an accepted kind. Messages never echo key material."""
    _check_kind(jwk)
    try:
        key = JWKRegistry.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError) as exc:
        raise _refused(f"is not a valid JWK ({type(exc).__name__})") from None
    if key.is_private:
        raise _refused("holds private key material; register the public key only")
    return dict(key.as_dict(private=False))


def _check_kind(jwk: Mapping[str, Any]) -> None:
    # Checked before joserfc imports the key: it warns on weak RSA keys instead of refusing.
    kty = jwk.get("kty")
    if PRIVATE_MEMBERS & jwk.keys():
        raise _refused("holds private or symmetric key material; register the public key only")
    if jwk.get("use", "sig") != "sig":
        raise _refused("must be a signing key ('use' is 'sig' or absent)")
    if kty == "RSA":
        _check_rsa_size(jwk.get("n"))
    elif kty in CURVES:
        if jwk.get("crv") not in CURVES[kty]:
            raise _refused(f"curve of a {kty} key must be one of {', '.join(CURVES[kty])}")
    else:
        raise _refused("'kty' must be RSA, EC or OKP")


def _check_rsa_size(modulus: object) -> None:
    if not isinstance(modulus, str):
        raise _refused("RSA key has no modulus 'n'")
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except (binascii.Error, ValueError):
        raise _refused("RSA modulus 'n' is not base64url") from None
    if int.from_bytes(raw, "big").bit_length() < MIN_RSA_BITS:
        raise _refused(f"RSA key must have at least {MIN_RSA_BITS} bits")


def _refused(why: str) -> BadRequest:
    return BadRequest(f"'public_jwk' {why}", param="public_jwk")

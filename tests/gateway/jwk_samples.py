"""JWKs to register agents with: good public keys, and the kinds the admin API must refuse."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey


def ed25519_public() -> dict[str, Any]:
    return dict(OKPKey.generate_key("Ed25519").as_dict(private=False))


def ed25519_private() -> dict[str, Any]:
    return dict(OKPKey.generate_key("Ed25519").as_dict(private=True))


def ec_public(curve: str) -> dict[str, Any]:
    return dict(ECKey.generate_key(curve).as_dict(private=False))


def rsa_public() -> dict[str, Any]:
    return dict(RSAKey.generate_key(2048).as_dict(private=False))


def rsa_1024_public() -> dict[str, Any]:
    # built by hand: joserfc warns (an error under pytest) when it makes or reads a weak key
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505  # the weak key to refuse
    numbers = weak.public_key().public_numbers()
    return {"kty": "RSA", "n": _b64(numbers.n), "e": _b64(numbers.e)}


def symmetric() -> dict[str, Any]:
    return dict(OctKey.generate_key(256).as_dict(private=True))


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

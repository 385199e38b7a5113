"""Verification keys: where an issuer's keys come from (``KeySource``), a fixed set read from a
JWKS file or given in code, and choosing the one key a token may be checked with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

from ztai.identity.algorithms import MIN_RSA_BITS, fits

_ASYMMETRIC = (RSAKey, ECKey, OKPKey)
_ASYMMETRIC_TYPES = frozenset({"RSA", "EC", "OKP"})


class KeySource(Protocol):
    async def current(self) -> Sequence[Key]:
        """The keys to verify with now. Raises ``AuthenticationFailed`` (``keys_unavailable``)
        when there are none it may use."""
        ...

    async def refresh(self) -> Sequence[Key]:
        """Called when a token names a key not in ``current()``: fetch again if the source
        allows it now (it rate-limits), and return the keys to use."""
        ...


class StaticKeySource:
    """A fixed key set: a JWKS file, or ztai's own public keys."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self._keys = tuple(public_keys(keys))

    async def current(self) -> Sequence[Key]:
        return self._keys

    async def refresh(self) -> Sequence[Key]:
        return self._keys


def public_keys(keys: Iterable[Key]) -> list[Key]:
    """The public halves of the asymmetric keys; symmetric keys are dropped, never trusted."""
    kept: list[Key] = []
    for key in keys:
        if isinstance(key, _ASYMMETRIC) and not _is_weak(key.as_dict(private=False)):
            public = JWKRegistry.import_key(dict(key.as_dict(private=False)))
            public.ensure_kid()
            kept.append(public)
    return kept


def parse_jwks(document: object) -> list[Key]:
    """The usable public keys of a JWK Set document; keys it cannot read are skipped (RFC 7517
    section 5). ``ValueError`` if the document is not a JWK Set."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: list[Key] = []
    for entry in document["keys"]:
        key = _import_jwk(entry)
        if key is not None:
            keys.append(key)
    return public_keys(keys)


def _import_jwk(entry: object) -> Key | None:
    if not isinstance(entry, dict) or entry.get("kty") not in _ASYMMETRIC_TYPES or _is_weak(entry):
        return None
    try:
        return JWKRegistry.import_key(entry)
    except (JoseError, ValueError, TypeError):
        return None


def _is_weak(jwk: Mapping[str, Any]) -> bool:
    """An RSA key under 2048 bits, judged from its modulus before joserfc imports (and warns)."""
    if jwk.get("kty") != "RSA":
        return False
    modulus = jwk.get("n")
    if not isinstance(modulus, str):
        return True
    return len(modulus.rstrip("=")) * 6 < MIN_RSA_BITS - 8


def load_jwks_file(path: Path) -> StaticKeySource:
    """A source of the keys in a JWKS file. Raises ``OSError`` or ``ValueError``."""
    keys = parse_jwks(orjson.loads(path.read_bytes()))
    if not keys:
        raise ValueError(f"{path} holds no usable public key")
    return StaticKeySource(keys)


def select_key(keys: Sequence[Key], kid: str | None, algorithm: str) -> Key | None:
    """The key with ``kid`` that fits ``algorithm``; without a kid, the only key that fits."""
    if kid is None:
        fitting = [key for key in keys if fits(key, algorithm)]
        return fitting[0] if len(fitting) == 1 else None
    return next((key for key in keys if key.kid == kid and fits(key, algorithm)), None)


def jwks_document(keys: Iterable[Key]) -> Mapping[str, Any]:
    """The public JWK Set to publish (e.g. at ``/.well-known/jwks.json``)."""
    return {"keys": [key.as_dict(private=False) for key in public_keys(keys)]}

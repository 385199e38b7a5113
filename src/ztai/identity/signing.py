"""ztai's token-signing key: a P-256 (ES256, the default: cheaper to verify on every request)
or Ed25519 private key in a PEM file, its ``kid`` the RFC 7638 thumbprint. The private half
never appears in a repr."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey

_ALGORITHM_BY_CURVE: Mapping[str, str] = {"Ed25519": "Ed25519", "P-256": "ES256"}


class SigningKey:
    __slots__ = ("_key", "algorithm", "kid")

    def __init__(self, key: OKPKey | ECKey) -> None:
        algorithm = _ALGORITHM_BY_CURVE.get(key.curve_name)
        if algorithm is None or not key.is_private:
            raise ValueError("a signing key must be a private P-256 or Ed25519 key")
        self._key = key
        self.kid = key.thumbprint()
        self.algorithm = algorithm

    @classmethod
    def from_pem_file(cls, path: Path) -> SigningKey:
        """Raises ``OSError`` if unreadable, ``ValueError`` if not an unencrypted private key
        of a supported curve."""
        pem = path.read_bytes()
        for key_type in (OKPKey, ECKey):
            try:
                return cls(key_type.import_key(pem))
            except (JoseError, ValueError, TypeError):
                continue
        raise ValueError(f"{path} holds no unencrypted P-256 or Ed25519 private key")

    @property
    def private(self) -> Key:
        return self._key

    def public(self) -> Key:
        """The public key as a JWK with this key's ``kid``, ``alg`` and ``use``."""
        params = {"kid": self.kid, "alg": self.algorithm, "use": "sig"}
        return type(self._key).import_key(dict(self._key.as_dict(private=False, **params)))

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, algorithm={self.algorithm!r})"


def generate_signing_key_file(path: Path, curve: str = "P-256") -> SigningKey:
    """Write a new private key (PEM, PKCS#8) readable only by its owner (mode 0600). Raises
    ``FileExistsError`` rather than overwrite a key whose tokens may still be in use."""
    key: OKPKey | ECKey = (
        OKPKey.generate_key("Ed25519") if curve == "Ed25519" else ECKey.generate_key(curve)
    )
    signing = SigningKey(key)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(key.as_pem(private=True))
    return signing

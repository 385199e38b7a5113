"""The shape of a compact JWS before anything is trusted: size first, then three base64url
segments, then a JSON header and JSON claims. Nothing here says the token is genuine."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError, MissingCritHeaderError, UnsupportedHeaderError

from ztai.identity.algorithms import ASYMMETRIC_ALGORITHMS, verification_registry
from ztai.identity.failure import AuthCode, auth_failure

DEFAULT_MAX_TOKEN_BYTES = 8192
# Linear time: no segment pattern can match a dot, so there is nothing to backtrack over.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Extensions ztai does not implement; RFC 7515 says a recipient must then refuse the token.
_REFUSED_HEADERS = ("crit", "b64", "zip", "enc")


@dataclass(frozen=True, slots=True)
class Unverified:
    """A parsed, not yet verified token. ``signed`` is joserfc's object, kept for verification."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signed: jws.CompactSignature

    @property
    def algorithm(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def looks_like_jws(token: str) -> bool:
    """Three base64url segments, the last one possibly empty (so ``alg: none`` reaches the
    verifier and is refused for what it is)."""
    return _COMPACT_JWS.fullmatch(token) is not None


class CompactParser:
    """Parses tokens of at most ``max_bytes`` characters (checked before any decoding)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._registry = verification_registry(ASYMMETRIC_ALGORITHMS, max_bytes)

    def parse(self, token: str) -> Unverified:
        """Check size and shape, decode header and claims. Raises ``AuthenticationFailed``
        (``token_too_large``, ``malformed_token``, ``unsupported_header``)."""
        if len(token) > self.max_bytes:
            raise auth_failure(AuthCode.TOKEN_TOO_LARGE)
        if not looks_like_jws(token):
            raise auth_failure(AuthCode.MALFORMED_TOKEN)
        try:
            signed = jws.extract_compact(token.encode(), registry=self._registry)
        except (MissingCritHeaderError, UnsupportedHeaderError):
            raise auth_failure(AuthCode.UNSUPPORTED_HEADER) from None
        except (JoseError, ValueError, TypeError, AttributeError):
            raise auth_failure(AuthCode.MALFORMED_TOKEN) from None
        header = signed.headers()
        _check_header(header)
        try:
            claims = orjson.loads(signed.payload)
        except orjson.JSONDecodeError:
            raise auth_failure(AuthCode.MALFORMED_TOKEN) from None
        if not isinstance(claims, dict):
            raise auth_failure(AuthCode.MALFORMED_TOKEN)
        return Unverified(header, claims, signed)


def _check_header(header: object) -> None:
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise auth_failure(AuthCode.MALFORMED_TOKEN)
    if "kid" in header and not isinstance(header["kid"], str):
        raise auth_failure(AuthCode.MALFORMED_TOKEN)
    if any(name in header for name in _REFUSED_HEADERS):
        raise auth_failure(AuthCode.UNSUPPORTED_HEADER)

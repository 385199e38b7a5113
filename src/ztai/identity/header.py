"""The one parser of the Authorization header. Anything it does not know is rejected."""

from __future__ import annotations

from dataclasses import dataclass

from ztai.core.errors import AuthenticationFailed
from ztai.core.secret import Secret

MAX_CREDENTIAL_LENGTH = 8192
_TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="
)


@dataclass(frozen=True, slots=True)
class BearerCredential:
    token: Secret


def parse_authorization(header: str | None) -> BearerCredential:
    """Parse ``Bearer <token>`` (RFC 6750 token68 characters only).

    Raises ``AuthenticationFailed`` for a missing, oversized or malformed header and for any
    other scheme; the message never echoes the header.
    """
    if not header:
        raise AuthenticationFailed("missing credential: send 'Authorization: Bearer <key>'")
    if len(header) > MAX_CREDENTIAL_LENGTH:
        raise AuthenticationFailed("credential too long")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationFailed("unsupported authorization scheme: use Bearer")
    token = token.strip()
    if not token or not _TOKEN_CHARS.issuperset(token):
        raise AuthenticationFailed("malformed bearer token")
    return BearerCredential(Secret(token))

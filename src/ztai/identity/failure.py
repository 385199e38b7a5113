"""Why a token was refused: one code per reason and its caller-safe message (never the token).

``oauth_error`` maps a code to the RFC 6749 / RFC 8693 error a token endpoint should return.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ztai.core.errors import AuthenticationFailed


class AuthCode(StrEnum):
    TOKEN_EXPIRED = "token_expired"
    TOKEN_NOT_YET_VALID = "token_not_yet_valid"
    INVALID_AUDIENCE = "invalid_audience"
    INVALID_ISSUER = "invalid_issuer"
    INVALID_SIGNATURE = "invalid_signature"
    UNKNOWN_KEY = "unknown_key"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNSUPPORTED_HEADER = "unsupported_header"
    UNSUPPORTED_TOKEN_TYPE = "unsupported_token_type"
    TOKEN_TOO_LARGE = "token_too_large"
    MALFORMED_TOKEN = "malformed_token"
    MISSING_CLAIM = "missing_claim"
    INVALID_CLAIM = "invalid_claim"
    KEYS_UNAVAILABLE = "keys_unavailable"
    UNSUPPORTED_CREDENTIAL = "unsupported_credential"
    ASSERTION_REPLAYED = "assertion_replayed"
    ASSERTION_LIFETIME = "assertion_lifetime_too_long"
    REPLAY_CACHE_FULL = "replay_cache_full"
    UNKNOWN_CLIENT = "unknown_client"
    AGENT_DISABLED = "agent_disabled"
    AGENT_EXPIRED = "agent_expired"
    SPONSOR_INACTIVE = "sponsor_inactive"
    ACTOR_MISMATCH = "actor_mismatch"
    INVALID_SCOPE = "invalid_scope"
    INVALID_TARGET = "invalid_target"


_MESSAGES: Mapping[AuthCode, str] = {
    AuthCode.TOKEN_EXPIRED: "token expired",
    AuthCode.TOKEN_NOT_YET_VALID: "token not yet valid",
    AuthCode.INVALID_AUDIENCE: "token not meant for this audience",
    AuthCode.INVALID_ISSUER: "token from an untrusted issuer",
    AuthCode.INVALID_SIGNATURE: "token signature invalid",
    AuthCode.UNKNOWN_KEY: "token signed with an unknown key",
    AuthCode.UNSUPPORTED_ALGORITHM: "token algorithm not allowed",
    AuthCode.UNSUPPORTED_HEADER: "token header not supported",
    AuthCode.UNSUPPORTED_TOKEN_TYPE: "token type not accepted here",
    AuthCode.TOKEN_TOO_LARGE: "token too large",
    AuthCode.MALFORMED_TOKEN: "malformed token",
    AuthCode.MISSING_CLAIM: "token lacks a required claim",
    AuthCode.INVALID_CLAIM: "token has an invalid claim",
    AuthCode.KEYS_UNAVAILABLE: "identity provider keys unavailable; try again later",
    AuthCode.UNSUPPORTED_CREDENTIAL: "credential type not accepted",
    AuthCode.ASSERTION_REPLAYED: "client assertion already used",
    AuthCode.ASSERTION_LIFETIME: "client assertion lifetime too long",
    AuthCode.REPLAY_CACHE_FULL: "too many client assertions; try again later",
    AuthCode.UNKNOWN_CLIENT: "unknown client",
    AuthCode.AGENT_DISABLED: "agent disabled",
    AuthCode.AGENT_EXPIRED: "agent registration expired",
    AuthCode.SPONSOR_INACTIVE: "agent sponsor inactive",
    AuthCode.ACTOR_MISMATCH: "actor token does not name the authenticated client",
    AuthCode.INVALID_SCOPE: "no requested scope is allowed",
    AuthCode.INVALID_TARGET: "audience not served here",
}

_OAUTH_ERRORS: Mapping[AuthCode, str] = {
    AuthCode.UNKNOWN_CLIENT: "invalid_client",
    AuthCode.ASSERTION_REPLAYED: "invalid_client",
    AuthCode.ASSERTION_LIFETIME: "invalid_client",
    AuthCode.ACTOR_MISMATCH: "invalid_client",
    AuthCode.AGENT_DISABLED: "unauthorized_client",
    AuthCode.AGENT_EXPIRED: "unauthorized_client",
    AuthCode.SPONSOR_INACTIVE: "unauthorized_client",
    AuthCode.INVALID_SCOPE: "invalid_scope",
    AuthCode.INVALID_TARGET: "invalid_target",
    AuthCode.UNSUPPORTED_TOKEN_TYPE: "invalid_request",
    AuthCode.KEYS_UNAVAILABLE: "temporarily_unavailable",
    AuthCode.REPLAY_CACHE_FULL: "temporarily_unavailable",
}


def auth_failure(code: AuthCode) -> AuthenticationFailed:
    """The error to raise for ``code``; its message is fixed, so it can never echo a token."""
    return AuthenticationFailed(_MESSAGES[code], code=code.value)


def oauth_error(code: str) -> str:
    """The OAuth ``error`` for a failure code at the token endpoint; token problems (the subject
    or actor token is expired, badly signed, ...) are ``invalid_grant``."""
    try:
        return _OAUTH_ERRORS[AuthCode(code)]
    except (KeyError, ValueError):
        return "invalid_grant"

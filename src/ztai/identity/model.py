"""Identity values shared by the token functions: a registered agent as the agent store returns
it, and a token ztai issued."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ztai.core.secret import Secret

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """A registered agent. ``public_jwk`` verifies its client assertions; ``allowed_models``
    bounds every token it gets. An agent is usable while not ``disabled``, before
    ``expires_at``, and while its ``sponsor`` (the accountable user) is active."""

    id: str
    sponsor: str
    public_jwk: Mapping[str, Any]
    allowed_models: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    expires_at: float | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token ztai signed, with what a token response needs (RFC 6749 section 5.1,
    RFC 8693 section 2.2). The token itself is a ``Secret``: it never shows in a repr."""

    token: Secret
    jti: str
    expires_in: int
    scope: frozenset[str]
    issued_token_type: str = ACCESS_TOKEN_TYPE
    token_type: str = "Bearer"

    def response(self) -> dict[str, str | int]:
        """The JSON body of a successful token response."""
        return {
            "access_token": self.token.reveal(),
            "issued_token_type": self.issued_token_type,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "scope": " ".join(sorted(self.scope)),
        }

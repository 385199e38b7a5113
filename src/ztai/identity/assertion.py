"""Agents authenticating to ztai's token endpoint with a signed client assertion (RFC 7523
``private_key_jwt``): ``iss`` = ``sub`` = the agent id, ``aud`` = the token endpoint, a short
``exp``, a single-use ``jti``, signed by the agent's registered key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from ztai.core.clock import Clock
from ztai.identity.algorithms import check_algorithms, fits, verification_registry
from ztai.identity.compact import DEFAULT_MAX_TOKEN_BYTES, CompactParser, Unverified
from ztai.identity.directory import AgentDirectory, active_agent
from ztai.identity.failure import AuthCode, auth_failure
from ztai.identity.model import AgentRecord
from ztai.identity.replay import ReplayCache
from ztai.identity.validation import MAX_LEEWAY_S, ClaimRules, check_claims, check_signature

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME_S = 300


@dataclass(frozen=True, slots=True)
class AssertionPolicy:
    """``audience`` is the token endpoint's URL. An assertion may live ``max_lifetime_s`` at most
    (capped at five minutes), which also bounds how long the replay cache keeps its ``jti``."""

    audience: str
    algorithms: tuple[str, ...] = ("ES256", "Ed25519", "PS256", "RS256")
    max_lifetime_s: int = MAX_ASSERTION_LIFETIME_S
    leeway_s: int = 30
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES

    def __post_init__(self) -> None:
        check_algorithms(self.algorithms)
        if not 0 < self.max_lifetime_s <= MAX_ASSERTION_LIFETIME_S:
            raise ValueError(f"max_lifetime_s must be between 1 and {MAX_ASSERTION_LIFETIME_S}")
        if not 0 <= self.leeway_s <= MAX_LEEWAY_S or not self.audience:
            raise ValueError("an audience and a leeway within bounds are required")


class ClientAssertionVerifier:
    """Verifies assertions against the agents in ``directory``; each ``jti`` is accepted once."""

    def __init__(
        self, policy: AssertionPolicy, directory: AgentDirectory, replay: ReplayCache, clock: Clock
    ) -> None:
        self._policy = policy
        self._directory = directory
        self._replay = replay
        self._clock = clock
        self._parser = CompactParser(policy.max_token_bytes)
        self._registry = verification_registry(policy.algorithms, policy.max_token_bytes)

    def verify(self, assertion: str, client_id: str | None = None) -> AgentRecord:
        """The active agent that signed ``assertion``; ``client_id``, when the request names one,
        must match. Raises ``AuthenticationFailed``: the JWT codes, ``unknown_client``,
        ``assertion_lifetime_too_long``, ``assertion_replayed``, and the agent status codes."""
        token = self._parser.parse(assertion)
        record = self._claimed_agent(token, client_id)
        check_signature(token, self._key(record, token), self._registry)
        now = self._clock.now()
        check_claims(token.claims, self._rules(record.id), now)
        expires_at = self._check_lifetime(token.claims, now)
        record = active_agent(self._directory, record.id, now)
        if not self._replay.consume(f"{record.id}\n{token.claims['jti']}", expires_at):
            raise auth_failure(AuthCode.ASSERTION_REPLAYED)
        return record

    def _claimed_agent(self, token: Unverified, client_id: str | None) -> AgentRecord:
        issuer = token.claims.get("iss")
        if not isinstance(issuer, str) or (client_id is not None and issuer != client_id):
            raise auth_failure(AuthCode.UNKNOWN_CLIENT)
        record = self._directory.agent(issuer)
        if record is None:
            raise auth_failure(AuthCode.UNKNOWN_CLIENT)
        if token.algorithm not in self._policy.algorithms:
            raise auth_failure(AuthCode.UNSUPPORTED_ALGORITHM)
        return record

    def _key(self, record: AgentRecord, token: Unverified) -> Key:
        key = registered_key(record.public_jwk)
        if key is None or not fits(key, token.algorithm):
            raise auth_failure(AuthCode.UNKNOWN_KEY)
        if token.kid is not None and key.kid is not None and token.kid != key.kid:
            raise auth_failure(AuthCode.UNKNOWN_KEY)
        return key

    def _rules(self, agent_id: str) -> ClaimRules:
        return ClaimRules(
            issuer=agent_id,
            audiences=frozenset({self._policy.audience}),
            leeway_s=self._policy.leeway_s,
            required=frozenset({"sub", "jti"}),
        )

    def _check_lifetime(self, claims: Mapping[str, Any], now: float) -> float:
        """When the ``jti`` may be forgotten; refuses assertions meant to live too long."""
        if claims["sub"] != claims["iss"] or not isinstance(claims["jti"], str):
            raise auth_failure(AuthCode.INVALID_CLAIM)
        exp, limit = claims["exp"], self._policy.max_lifetime_s
        issued = claims.get("iat", now)
        if exp - now > limit + self._policy.leeway_s or exp - issued > limit:
            raise auth_failure(AuthCode.ASSERTION_LIFETIME)
        return float(exp) + self._policy.leeway_s


def registered_key(jwk: Mapping[str, Any]) -> Key | None:
    """The public key an agent registered, or None if it is not an asymmetric public JWK."""
    try:
        key = JWKRegistry.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError):
        return None
    return None if key.is_private or key.key_type == "oct" else key

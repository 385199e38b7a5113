"""Which JWS algorithms ztai accepts: asymmetric ones only, each bound to one key type, so
``none`` and HMAC-with-a-public-key confusion cannot be configured, let alone accepted."""

from __future__ import annotations

from collections.abc import Iterable

from joserfc.errors import JoseError
from joserfc.jwk import Key, RSAKey
from joserfc.jws import JWSRegistry

# RFC 7518 RSA and ECDSA, and RFC 9864's fully specified Ed25519. The polymorphic "EdDSA" is
# left out: RFC 9864 deprecates it and joserfc warns on every use.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "Ed25519"}
)
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256", "Ed25519")
MIN_RSA_BITS = 2048


def check_algorithms(names: Iterable[str]) -> tuple[str, ...]:
    """The allow-list as given; ``ValueError`` if it is empty or names anything not asymmetric."""
    allowed = tuple(names)
    if not allowed:
        raise ValueError("the algorithm allow-list is empty")
    refused = sorted(set(allowed) - ASYMMETRIC_ALGORITHMS)
    if refused:
        raise ValueError(f"algorithms not allowed (asymmetric only): {', '.join(refused)}")
    return allowed


def verification_registry(algorithms: Iterable[str], max_bytes: int) -> JWSRegistry:
    """A joserfc registry for ``algorithms`` whose size limits follow ours. Headers outside the
    registry (``nonce``, vendor fields) are tolerated; ``crit`` is refused before joserfc runs."""
    registry = JWSRegistry(algorithms=check_algorithms(algorithms), strict_check_header=False)
    registry.max_header_length = max_bytes
    registry.max_payload_length = max_bytes
    return registry


def fits(key: Key, algorithm: str) -> bool:
    """Whether ``key`` may verify ``algorithm``: right type and curve, ``use``/``alg`` consistent,
    RSA at least 2048 bits."""
    model = JWSRegistry.algorithms.get(algorithm)
    if algorithm not in ASYMMETRIC_ALGORITHMS or model is None:
        return False
    try:
        model.check_key(key)
    except JoseError:
        return False
    return not isinstance(key, RSAKey) or key.public_key.key_size >= MIN_RSA_BITS

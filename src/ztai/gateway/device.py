"""Device compliance for conditional access. A device is compliant when it presents a device
claim (a compact JWS in the ``x-ztai-device`` header) signed by the device-management service,
unexpired, saying ``"compliant": true`` and, if it names a principal, naming this caller; or,
where configured, when a trusted TLS-terminating proxy verified the client certificate.
Anything else, including a claim that fails to verify, counts as not compliant."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ztai.core.flow import Flow
from ztai.gateway.control import ref

MAX_CLAIM_BYTES = 4096
ASYMMETRIC = ("RS256", "PS256", "ES256", "ES384", "EdDSA")


@dataclass(frozen=True, slots=True)
class SignedDeviceCheck:
    keys: KeySet | None
    issuer: str
    algorithms: Collection[str] = ASYMMETRIC
    trust_verified_client_certs: bool = False
    leeway_s: int = 30

    def compliant(self, flow: Flow, now: float) -> bool:
        if self.trust_verified_client_certs and flow.meta.client_cert.get("verified") == "SUCCESS":
            return True
        claim, keys = flow.meta.device_claim, self.keys
        if claim is None or keys is None or len(claim.reveal()) > MAX_CLAIM_BYTES:
            return False
        claims = _verified(keys, self, claim.reveal(), int(now))
        if claims is None or claims.get("compliant") is not True:
            return False
        bound = claims.get("principal")
        return bound is None or bound == ref(flow.principal.chain()[0])


def _verified(keys: KeySet, check: SignedDeviceCheck, token: str,
              now: int) -> dict[str, object] | None:
    try:
        decoded = jwt.decode(token, keys, algorithms=list(check.algorithms))
        registry = jwt.JWTClaimsRegistry(now=now, leeway=check.leeway_s,
                                         iss={"essential": True, "value": check.issuer},
                                         exp={"essential": True})
        registry.validate(decoded.claims)
    except (JoseError, ValueError):
        return None
    return dict(decoded.claims)

"""Revocation of agents on the next request: a token ztai issued stays valid until it expires,
but not once its agent is disabled, expired or deleted, or the agent's sponsor is."""

from __future__ import annotations

from ztai.core.clock import Clock
from ztai.core.model import Principal
from ztai.identity.directory import AgentDirectory, check_chain
from ztai.identity.header import BearerCredential
from ztai.identity.interface import Authenticator


class ActiveAgentAuthenticator:
    """Wraps ``inner``; after it verifies a credential, every agent in the delegation chain that
    ``issuer`` (ztai's issuer URL) vouched for must still be active in ``directory``."""

    def __init__(
        self, inner: Authenticator, directory: AgentDirectory, issuer: str, clock: Clock
    ) -> None:
        self._inner = inner
        self._directory = directory
        self._issuer = issuer
        self._clock = clock

    async def authenticate(self, credential: BearerCredential) -> Principal:
        principal = await self._inner.authenticate(credential)
        check_chain(principal, self._directory, self._issuer, self._clock.now())
        return principal

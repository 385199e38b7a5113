"""The authenticator interface: a credential in, a verified Principal out, or
``AuthenticationFailed``. Implementations never return a principal they did not verify."""

from __future__ import annotations

from typing import Protocol

from ztai.core.model import Principal
from ztai.identity.header import BearerCredential


class Authenticator(Protocol):
    async def authenticate(self, credential: BearerCredential) -> Principal:
        """A verified principal, or ``AuthenticationFailed``. Async: verifying a token may need
        an identity provider's keys fetched."""
        ...

"""The one place a bearer credential's shape picks its authenticator: ``ztai-sk-…`` is an API
key, three base64url segments a JWT; anything else is refused."""

from __future__ import annotations

from ztai.core.model import Principal
from ztai.identity.apikey import PREFIX
from ztai.identity.compact import looks_like_jws
from ztai.identity.failure import AuthCode, auth_failure
from ztai.identity.header import BearerCredential
from ztai.identity.interface import Authenticator


class CompositeAuthenticator:
    """Dispatches to ``api_keys`` or ``tokens``; a shape whose authenticator is not configured
    (None) is refused with ``unsupported_credential``, as is an unknown shape."""

    def __init__(self, api_keys: Authenticator | None, tokens: Authenticator | None) -> None:
        self._api_keys = api_keys
        self._tokens = tokens

    async def authenticate(self, credential: BearerCredential) -> Principal:
        token = credential.token.reveal()
        if token.startswith(PREFIX):
            chosen = self._api_keys
        elif looks_like_jws(token):
            chosen = self._tokens
        else:
            chosen = None
        if chosen is None:
            raise auth_failure(AuthCode.UNSUPPORTED_CREDENTIAL)
        return await chosen.authenticate(credential)

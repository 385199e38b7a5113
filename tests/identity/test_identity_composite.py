"""One dispatch point for bearer credentials: API keys to the key authenticator, JWTs to the
verifier, anything else refused."""

from __future__ import annotations

import pytest
from joserfc.jwk import RSAKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import PrincipalKind
from ztai.core.secret import Secret
from ztai.identity.apikey import ApiKeyAuthenticator, KeySpec, issue_key
from ztai.identity.composite import CompositeAuthenticator
from ztai.identity.header import BearerCredential, parse_authorization
from ztai.identity.verifier import JwtVerifier
from ztai.storage.memory import MemoryKeyStore

from .support import idp_claims, sign

pytestmark = pytest.mark.anyio


@pytest.fixture
def api_key_and_authenticator(clock: FixedClock) -> tuple[str, ApiKeyAuthenticator]:
    store = MemoryKeyStore()
    key, _ = issue_key(store, KeySpec("svc-1", PrincipalKind.SERVICE), clock)
    return key.reveal(), ApiKeyAuthenticator(store, clock)


async def test_each_shape_goes_to_its_authenticator(
    api_key_and_authenticator: tuple[str, ApiKeyAuthenticator],
    verifier: JwtVerifier,
    rsa_key: RSAKey,
) -> None:
    key, api_keys = api_key_and_authenticator
    composite = CompositeAuthenticator(api_keys, verifier)
    by_key = await composite.authenticate(parse_authorization(f"Bearer {key}"))
    token = sign(rsa_key, idp_claims())
    by_jwt = await composite.authenticate(parse_authorization(f"Bearer {token}"))
    assert (by_key.id, by_key.auth_method) == ("svc-1", "api_key")
    assert (by_jwt.id, by_jwt.auth_method) == ("alice", "jwt")


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("opaque-token", "unsupported_credential"),
        ("a.b", "unsupported_credential"),
        ("a.b.c.d", "unsupported_credential"),
        ("a..c", "unsupported_credential"),
        ("ztai-sk-short", "invalid_api_key"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", "invalid_issuer"),
    ],
)
async def test_other_shapes_are_refused(
    api_key_and_authenticator: tuple[str, ApiKeyAuthenticator],
    verifier: JwtVerifier,
    token: str,
    code: str,
) -> None:
    composite = CompositeAuthenticator(api_key_and_authenticator[1], verifier)
    with pytest.raises(AuthenticationFailed) as caught:
        await composite.authenticate(BearerCredential(Secret(token)))
    assert caught.value.code == code


async def test_an_unconfigured_kind_is_refused(
    api_key_and_authenticator: tuple[str, ApiKeyAuthenticator],
    verifier: JwtVerifier,
    rsa_key: RSAKey,
) -> None:
    key, api_keys = api_key_and_authenticator
    for composite, token in (
        (CompositeAuthenticator(api_keys, None), sign(rsa_key, idp_claims())),
        (CompositeAuthenticator(None, verifier), key),
    ):
        with pytest.raises(AuthenticationFailed) as caught:
            await composite.authenticate(BearerCredential(Secret(token)))
        assert caught.value.code == "unsupported_credential"

"""An identity provider's JWKS over HTTP (a real server on 127.0.0.1): caching, rotation,
rate-limited refetching for unknown kids, and failing closed when the endpoint is down."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.identity.jwks import JwksConfig, RemoteJwksSource
from ztai.identity.verifier import JwtVerifier, TrustedIssuer

from .conftest import idp_config
from .support import JwksServer, idp_claims, public_jwk, refused_url, sign

pytestmark = pytest.mark.anyio


def remote_verifier(
    url: str, client: httpx.AsyncClient, clock: FixedClock, **config: float
) -> JwtVerifier:
    source = RemoteJwksSource(JwksConfig(url, **config), client, clock)
    return JwtVerifier([TrustedIssuer(idp_config(), source)], clock)


async def refused_code(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(token)
    return caught.value.code


@pytest.fixture
def serve(jwks_server: JwksServer, rsa_key: RSAKey) -> JwksServer:
    jwks_server.document = {"keys": [public_jwk(rsa_key)]}
    return jwks_server


async def test_keys_are_fetched_once_and_cached(
    serve: JwksServer, http_client: httpx.AsyncClient, clock: FixedClock, rsa_key: RSAKey
) -> None:
    verifier = remote_verifier(f"{serve.url}/jwks", http_client, clock)
    for _ in range(3):
        assert (await verifier.verify(sign(rsa_key, idp_claims()))).id == "alice"
    assert serve.hits == ["/jwks"]


async def test_concurrent_requests_on_a_cold_cache_fetch_once(
    serve: JwksServer, http_client: httpx.AsyncClient, clock: FixedClock, rsa_key: RSAKey
) -> None:
    verifier = remote_verifier(f"{serve.url}/jwks", http_client, clock)
    token = sign(rsa_key, idp_claims())
    principals = await asyncio.gather(*(verifier.verify(token) for _ in range(10)))
    assert {p.id for p in principals} == {"alice"}
    assert len(serve.hits) == 1


async def test_key_rotation(
    serve: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FixedClock,
    rsa_key: RSAKey,
    other_rsa_key: RSAKey,
) -> None:
    verifier = remote_verifier(f"{serve.url}/jwks", http_client, clock)
    old_token = sign(rsa_key, idp_claims(exp=10**10))
    assert (await verifier.verify(old_token)).id == "alice"

    # The IdP publishes a new key and starts signing with it: an unknown kid triggers a refetch.
    serve.document = {"keys": [public_jwk(rsa_key), public_jwk(other_rsa_key)]}
    clock.advance(31)
    assert (await verifier.verify(sign(other_rsa_key, idp_claims(exp=10**10)))).id == "alice"
    assert len(serve.hits) == 2

    # The old key is withdrawn: once the cache is refreshed, its tokens are refused.
    serve.document = {"keys": [public_jwk(other_rsa_key)]}
    clock.advance(301)
    assert await refused_code(verifier, old_token) == "unknown_key"
    assert len(serve.hits) == 3


async def test_random_kids_cannot_make_ztai_hammer_the_idp(
    serve: JwksServer, http_client: httpx.AsyncClient, clock: FixedClock, rsa_key: RSAKey
) -> None:
    verifier = remote_verifier(f"{serve.url}/jwks", http_client, clock)
    for n in range(50):
        token = sign(rsa_key, idp_claims(), kid=f"random-{n}")
        assert await refused_code(verifier, token) == "unknown_key"
        clock.advance(0.5)
    # The first fetch, then at most one per 30 s of the 25 s that passed.
    assert len(serve.hits) == 1
    clock.advance(30)
    assert await refused_code(verifier, sign(rsa_key, idp_claims(), kid="random-x")) == (
        "unknown_key"
    )
    assert len(serve.hits) == 2


@pytest.mark.parametrize(
    ("header", "refetch_after"), [("public, max-age=60", 60), ("max-age=0", 30), ("", 300)]
)
async def test_cache_control_sets_the_ttl_within_bounds(
    serve: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FixedClock,
    rsa_key: RSAKey,
    header: str,
    refetch_after: int,
) -> None:
    serve.headers = {"Cache-Control": header} if header else {}
    verifier = remote_verifier(f"{serve.url}/jwks", http_client, clock)
    token = sign(rsa_key, idp_claims(exp=10**10))
    await verifier.verify(token)
    clock.advance(refetch_after - 1)
    await verifier.verify(token)
    assert len(serve.hits) == 1
    clock.advance(1)
    await verifier.verify(token)
    assert len(serve.hits) == 2


async def test_endpoint_refusing_connections_fails_closed(
    http_client: httpx.AsyncClient, clock: FixedClock, rsa_key: RSAKey
) -> None:
    url = refused_url()
    verifier = remote_verifier(url, http_client, clock)
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(sign(rsa_key, idp_claims()))
    assert caught.value.code == "keys_unavailable"
    assert "127.0.0.1" not in caught.value.message


@pytest.mark.parametrize(
    ("status", "document"),
    [
        (500, {"keys": []}),
        (200, {"not": "a key set"}),
        (200, {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
        (200, {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}),
        (200, {"keys": ["x" * 300_000]}),
    ],
    ids=["500", "not a key set", "only symmetric", "weak RSA", "too large"],
)
async def test_endpoint_without_usable_keys_fails_closed(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FixedClock,
    rsa_key: RSAKey,
    status: int,
    document: dict[str, object],
) -> None:
    jwks_server.status, jwks_server.document = status, document
    verifier = remote_verifier(f"{jwks_server.url}/jwks", http_client, clock)
    assert await refused_code(verifier, sign(rsa_key, idp_claims())) == "keys_unavailable"


async def test_cached_keys_outlive_an_outage_for_max_stale_only(
    serve: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FixedClock,
    rsa_key: RSAKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    verifier = remote_verifier(f"{serve.url}/jwks", http_client, clock, max_stale_s=600)
    token = sign(rsa_key, idp_claims(exp=10**10))
    await verifier.verify(token)
    serve.status = 503
    clock.advance(300 + 599)
    with caplog.at_level(logging.WARNING, logger="ztai.identity.jwks"):
        assert (await verifier.verify(token)).id == "alice"
    assert "JWKS fetch" in caplog.text
    assert token not in caplog.text
    clock.advance(31)
    assert await refused_code(verifier, token) == "keys_unavailable"
    serve.status = 200
    clock.advance(30)
    assert (await verifier.verify(token)).id == "alice"


async def test_an_ec_key_set_works_too(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: FixedClock, ec_key: ECKey
) -> None:
    jwks_server.document = {"keys": [
        {"kty": "unknown"}, {"kty": "EC", "crv": "P-256"}, {"kty": "RSA", "n": 5}, "not a key",
        public_jwk(ec_key),
    ]}
    verifier = remote_verifier(f"{jwks_server.url}/jwks", http_client, clock)
    assert (await verifier.verify(sign(ec_key, idp_claims(), alg="ES256"))).id == "alice"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://idp.example.com/jwks", True),
        ("http://127.0.0.1:8080/jwks", True),
        ("http://localhost/jwks", True),
        ("http://[::1]/jwks", True),
        ("http://idp.example.com/jwks", False),
        ("file:///etc/jwks.json", False),
        ("https:///jwks", False),
    ],
)
def test_jwks_urls_must_be_https_except_loopback(url: str, allowed: bool) -> None:
    if allowed:
        assert JwksConfig(url).url == url
    else:
        with pytest.raises(ValueError, match="https"):
            JwksConfig(url)


@pytest.mark.parametrize("field", ["ttl_s", "min_refresh_interval_s", "max_stale_s"])
def test_jwks_intervals_are_not_negative(field: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        JwksConfig("https://idp.example.com/jwks", **{field: -1.0})

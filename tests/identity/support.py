"""Helpers for the identity tests: tokens signed properly or forged by hand, a JWKS server on
127.0.0.1, and an in-memory agent directory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from joserfc import jwt
from joserfc.jwk import Key, RSAKey
from joserfc.jws import JWSRegistry

from ztai.identity.model import AgentRecord

NOW = 1_750_000_000
IDP = "https://idp.example.com"
AUDIENCE = "ztai-gateway"
ZTAI = "https://ztai.example.com"
TOKEN_ENDPOINT = "https://ztai.example.com/oauth/token"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(key: Key, claims: Mapping[str, Any], **header: Any) -> str:
    """A token signed properly by joserfc; ``header`` defaults to ``alg`` RS256 and the key's
    kid."""
    full = {"alg": "RS256", "kid": key.kid, **header}
    registry = JWSRegistry(algorithms=[full["alg"]], strict_check_header=False)
    return jwt.encode({k: v for k, v in full.items() if v is not None}, dict(claims), key,
                      registry=registry)


def forge(header: Mapping[str, Any], claims: Mapping[str, Any],
          signer: Callable[[bytes], bytes] | None = None) -> str:
    """A token built by hand, as an attacker would: any header, any signature."""
    signing_input = f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims))}"
    signature = b64(signer(signing_input.encode())) if signer else ""
    return f"{signing_input}.{signature}"


def rs256(key: RSAKey) -> Callable[[bytes], bytes]:
    private = key.private_key
    assert isinstance(private, RSAPrivateKey)
    return lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def hs256(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def idp_claims(**changes: Any) -> dict[str, Any]:
    """Valid claims of an IdP access token at ``NOW``; a value of None removes the claim."""
    claims = {
        "iss": IDP,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 300,
        "jti": "idp-token-1",
        "groups": ["staff"],
        **changes,
    }
    return {k: v for k, v in claims.items() if v is not None}


def public_jwk(key: Key, **params: Any) -> dict[str, Any]:
    return dict(key.as_dict(private=False, **params))


@dataclass
class MemoryDirectory:
    """An ``AgentDirectory`` over dicts the tests change."""

    agents: dict[str, AgentRecord] = field(default_factory=dict)
    inactive_sponsors: set[str] = field(default_factory=set)

    def agent(self, agent_id: str) -> AgentRecord | None:
        return self.agents.get(agent_id)

    def is_sponsor_active(self, sponsor: str) -> bool:
        return sponsor not in self.inactive_sponsors


@dataclass
class JwksServer:
    """Serves ``document`` at ``/jwks`` with ``status`` and ``headers``; counts every request
    on any path in ``hits``."""

    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=orjson.dumps(self.document), status=self.status,
                            headers=self.headers, content_type="application/json")


def refused_url() -> str:
    """A loopback URL nothing listens on: the port was bound, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks"


def assertion_claims(agent_id: str, jti: str = "jti-1", **changes: Any) -> dict[str, Any]:
    """Valid client-assertion claims of ``agent_id`` at ``NOW``; None removes a claim."""
    claims = {
        "iss": agent_id,
        "sub": agent_id,
        "aud": TOKEN_ENDPOINT,
        "iat": NOW,
        "exp": NOW + 60,
        "jti": jti,
        **changes,
    }
    return {k: v for k, v in claims.items() if v is not None}


def client_assertion(key: Key, agent_id: str, jti: str = "jti-1", **changes: Any) -> str:
    return sign(key, assertion_claims(agent_id, jti, **changes), alg="ES256")


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a token, read without verifying it (to inspect what ztai issued)."""
    return _segment(token, 1)


def unverified_header(token: str) -> dict[str, Any]:
    return _segment(token, 0)


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded

"""The JWT attack suite through the OpenAI route: every forged or invalid token is a 401 with
its own code, and each attempt is one audit event (the library-level suite with JWKS rotation
and an unreachable JWKS endpoint is tests/identity/test_identity_jwt_attacks.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.gateway.harness import Harness, auth, chat, harness
from tests.gateway.identity_kit import IDP

pytestmark = pytest.mark.anyio


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(h: Harness, **changes: object) -> dict[str, object]:
    now = int(h.clock.now())
    return {"iss": IDP, "aud": "ztai", "sub": "alice", "groups": ["staff"], "iat": now,
            "exp": now + 600, **changes}


def alg_none(h: Harness) -> str:
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    return f"{header}.{_b64(orjson.dumps(_claims(h)))}."


def hs256_with_public_key(h: Harness) -> str:
    public = orjson.dumps(h.kit.idp_key.as_dict(private=False))
    signing_input = (_b64(orjson.dumps({"alg": "HS256", "kid": "idp-1"})) + "."
                     + _b64(orjson.dumps(_claims(h))))
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unknown_kid(h: Harness) -> str:
    other = ECKey.generate_key("P-256", private=True)
    return jwt.encode({"alg": "ES256", "kid": "nope"}, _claims(h), other)


def tampered(h: Harness) -> str:
    header, _, signature = h.kit.idp_token("alice", ["staff"]).split(".")
    forged = _b64(orjson.dumps(_claims(h, groups=["admins"])))
    return f"{header}.{forged}.{signature}"


def signed(**changes: object) -> Callable[[Harness], str]:
    def make(h: Harness) -> str:
        return jwt.encode({"alg": "ES256", "kid": "idp-1"}, _claims(h, **changes),
                          h.kit.idp_key)
    return make


ATTACKS: dict[str, Callable[[Harness], str]] = {
    "alg none": alg_none,
    "HS256 signed with the public key": hs256_with_public_key,
    "unknown kid": unknown_kid,
    "tampered payload": tampered,
    "expired": signed(exp=1_000),
    "not yet valid": signed(nbf=2_000_000_000),
    "wrong audience": signed(aud="someone-else"),
    "wrong issuer": signed(iss="https://evil.test/"),
    "oversized": signed(padding="x" * 9000),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_attack_is_rejected_and_audited(tmp_path: Path, attack: str) -> None:
    async with harness(tmp_path) as h:
        token = ATTACKS[attack](h)
        response = await h.client.post("/v1/chat/completions", json=chat(), headers=auth(token))
        events = h.events()
    assert response.status_code == 401, response.text
    assert token not in response.text
    assert len(events) == 1
    assert events[0]["status"] == 401
    assert events[0]["principal"] is None
    assert events[0]["error"]
    assert token not in orjson.dumps(events).decode()


async def test_the_genuine_token_works(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", json=chat(),
                                       headers=auth(h.kit.idp_token("alice", ["staff"])))
        event = h.last_event()
    assert response.status_code == 200
    assert (event["principal"], event["auth_method"]) == ("alice", "jwt")

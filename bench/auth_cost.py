"""Per-request authentication cost: what the gateway runs for each request's bearer credential.

Each variant is ``parse_authorization`` + ``CompositeAuthenticator.authenticate`` as the gateway
wires it (API keys, and JWTs through ``ActiveAgentAuthenticator`` over the ``JwtVerifier``):

- ``api-key``: an API key, ``ApiKeyAuthenticator`` over a ``MemoryKeyStore``.
- ``idp-rs256`` / ``idp-es256``: an IdP access token, keys from a JWKS URL (cached; the fetch
  goes to an in-process ``httpx.MockTransport`` once, before timing).
- ``ztai-es256`` / ``ztai-ed25519``: a ztai token for an agent acting for a user (RFC 8693
  ``act``), signed with each kind of ztai key, the agent and its sponsor checked in the
  directory on every request.

Variants run interleaved for ``--rounds`` rounds of ``--iters`` calls; figures are medians over
the rounds in µs per request. With ``--policy`` each principal is also authorized by the
Cedar authorizer of ``bench/policy_eval.py`` (starter + 50 policies), and the sum is shown.

    .venv/bin/python bench/auth_cost.py [--rounds 15] [--iters 500] [--policy]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from ztai.core.clock import SystemClock
from ztai.core.model import Action, Principal, PrincipalId, PrincipalKind, Resource, ResourceKind
from ztai.identity.apikey import ApiKeyAuthenticator, KeySpec, issue_key
from ztai.identity.composite import CompositeAuthenticator
from ztai.identity.guard import ActiveAgentAuthenticator
from ztai.identity.header import parse_authorization
from ztai.identity.issuer import Grant, IssuerSettings, TokenIssuer
from ztai.identity.jwks import JwksConfig, RemoteJwksSource
from ztai.identity.keyset import jwks_document
from ztai.identity.model import AgentRecord
from ztai.identity.signing import SigningKey
from ztai.identity.validation import ClaimRules
from ztai.identity.verifier import IssuerConfig, JwtVerifier, TrustedIssuer
from ztai.storage.memory import MemoryKeyStore

IDP = "https://idp.example.com"
ZTAI = "https://ztai.example.com"
AUDIENCE = "ztai"


@dataclass
class Directory:
    agents: dict[str, AgentRecord] = field(default_factory=dict)

    def agent(self, agent_id: str) -> AgentRecord | None:
        return self.agents.get(agent_id)

    def is_sponsor_active(self, sponsor: str) -> bool:
        return True


def idp_token(key: Key, alg: str, now: int) -> str:
    claims = {"iss": IDP, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 3600,
              "jti": "t1", "groups": ["staff", "team-3"], "amr": ["pwd", "mfa"], "acr": "aal2"}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


async def build() -> tuple[CompositeAuthenticator, dict[str, str], httpx.AsyncClient]:
    """The authenticator and one ``Authorization`` header per variant."""
    clock = SystemClock()
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec"})
    document = jwks_document([rsa, ec])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    client = httpx.AsyncClient(transport=transport)
    source = RemoteJwksSource(JwksConfig(f"{IDP}/jwks"), client, clock)
    idp = TrustedIssuer(IssuerConfig(ClaimRules(IDP, frozenset({AUDIENCE}))), source)
    settings = IssuerSettings(ZTAI, AUDIENCE, token_ttl_s=3600)
    es256 = SigningKey(ECKey.generate_key("P-256"))
    ed25519 = SigningKey(OKPKey.generate_key("Ed25519"))
    issuer = TokenIssuer(settings, es256, clock, retired=[ed25519.public()])
    directory = Directory({"agent-1": AgentRecord("agent-1", "alice", {}, frozenset({"m1"}))})
    verifier = JwtVerifier([idp, issuer.trusted_issuer()], clock)
    store = MemoryKeyStore()
    spec = KeySpec("svc", PrincipalKind.SERVICE, frozenset({"staff"}))
    api_key, _ = issue_key(store, spec, clock)
    guarded = ActiveAgentAuthenticator(verifier, directory, ZTAI, clock)
    composite = CompositeAuthenticator(ApiKeyAuthenticator(store, clock), guarded)
    now = int(clock.now())
    user = await verifier.verify(idp_token(rsa, "RS256", now))
    agent = Principal(PrincipalId("agent-1"), PrincipalKind.AGENT, sponsor="alice", issuer=ZTAI,
                      acting_for=user)
    grant = Grant(frozenset({"m1"}))
    tokens = {
        "api-key": api_key.reveal(),
        "idp-rs256": idp_token(rsa, "RS256", now),
        "idp-es256": idp_token(ec, "ES256", now),
        "ztai-es256": issuer.issue(agent, grant).token.reveal(),
        "ztai-ed25519": TokenIssuer(settings, ed25519, clock).issue(agent, grant).token.reveal(),
    }
    return composite, {name: f"Bearer {token}" for name, token in tokens.items()}, client


async def per_call_us(func: Callable[[], Awaitable[Any]], iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        await func()
    return (time.perf_counter() - start) / iters * 1e6


def authorizer_variant(principal: Principal) -> Callable[[], Awaitable[bool]]:
    """The Cedar decision of ``bench/policy_eval.py`` for ``principal``."""
    import policy_eval  # bench/ is on sys.path when this script runs

    from ztai.policy.interface import AuthzRequest

    authorizer, _, _ = policy_eval.build(argparse.Namespace(policies=50, models=20))
    request = AuthzRequest(principal, Action.INVOKE_MODEL, Resource(ResourceKind.MODEL, "m1"),
                           {"route": "/v1/chat/completions", "stream": False})

    async def decide() -> bool:
        return authorizer.decide(request).is_allow

    return decide


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--iters", type=int, default=500)
    parser.add_argument("--policy", action="store_true", help="also time Cedar authorization")
    args = parser.parse_args()
    composite, headers, client = await build()
    funcs: dict[str, Callable[[], Awaitable[Any]]] = {}
    for name, header in headers.items():
        principal = await composite.authenticate(parse_authorization(header))
        funcs[name] = lambda h=header: composite.authenticate(parse_authorization(h))
        if args.policy:
            funcs[f"{name}+authz"] = authorizer_variant(principal)
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(args.rounds):
        for name, func in funcs.items():
            samples[name].append(await per_call_us(func, args.iters))
    await client.aclose()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    report(medians, args)


def report(medians: dict[str, float], args: argparse.Namespace) -> None:
    print(f"{args.rounds} rounds x {args.iters} calls, interleaved; median µs per request")
    header = f"  {'credential':<16} {'authenticate':>12}"
    print(header + (f" {'authorize':>10} {'total':>8}" if args.policy else ""))
    for name in [n for n in medians if not n.endswith("+authz")]:
        line = f"  {name:<16} {medians[name]:12.1f}"
        if args.policy:
            authz = medians[f"{name}+authz"]
            line += f" {authz:10.1f} {medians[name] + authz:8.1f}"
        print(line)


if __name__ == "__main__":
    asyncio.run(main())

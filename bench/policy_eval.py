"""Cedar evaluation cost: ztai's handle-based CedarAuthorizer vs the naive cedarpy call style.

Variants, run interleaved (A, B, C, A, B, C, ...) for ``--rounds`` rounds of ``--iters`` decisions
each; figures are medians over the rounds, in µs per decision:

- ``authorizer``: ``CedarAuthorizer.decide`` — PolicySet/Entities/Schema handles parsed once,
  a per-request principal delta (``with_added_json_str``), mapping to a ``Decision``.
- ``raw-handles``: ``cedarpy.is_authorized`` with the same handles and delta, no ztai mapping.
- ``naive``: ``cedarpy.is_authorized(request, policy_text, entities_list)`` — re-parses the
  policies and entities on every call (and, being the naive style, passes no schema).

    .venv/bin/python bench/policy_eval.py [--policies 50] [--models 20] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import cedarpy

from ztai.core.model import Action, Principal, PrincipalId, PrincipalKind, Resource, ResourceKind
from ztai.policy.bundled import load_schema, starter_policies
from ztai.policy.cedar import CedarAuthorizer, evaluate
from ztai.policy.compiler import compile_policies
from ztai.policy.entities import cedar_request, principal_json
from ztai.policy.interface import AuthzRequest
from ztai.policy.model import ResourceEntity

TIERS = ("internal", "sanctioned", "consumer")


def extra_policies(count: int) -> str:
    """``count`` realistic-looking policies: per-team grants with a tag condition."""
    return "".join(
        f'@id("team-{n}")\n@reason("team {n} may use its models")\n'
        f'permit (principal in Group::"team-{n}", action == Action::"invoke_model", resource)\n'
        f'when {{ principal.hasTag("dept") && principal.getTag("dept") == "dept-{n}" }};\n'
        for n in range(count)
    )


def build(args: argparse.Namespace) -> tuple[CedarAuthorizer, AuthzRequest, dict[str, str]]:
    texts = {**starter_policies(), "50-extra.cedar": extra_policies(args.policies)}
    schema = load_schema()
    catalogue = [
        ResourceEntity(
            Resource(ResourceKind.MODEL, f"m{n}"), {"upstream": "u", "tier": TIERS[n % 3]}
        )
        for n in range(args.models)
    ]
    authorizer = CedarAuthorizer(compile_policies(texts, schema), catalogue)
    principal = Principal(
        PrincipalId("alice"),
        PrincipalKind.USER,
        frozenset({"staff", "team-3"}),
        {"dept": "dept-3"},
        "api_key",
    )
    request = AuthzRequest(
        principal,
        Action.INVOKE_MODEL,
        Resource(ResourceKind.MODEL, "m1"),
        {"route": "/v1/chat/completions", "stream": False},
    )
    return authorizer, request, texts


def variants(
    authorizer: CedarAuthorizer, request: AuthzRequest, texts: dict[str, str]
) -> dict[str, Callable[[], bool]]:
    snapshot = authorizer.snapshot
    policies, schema = snapshot.policies.policy_set, snapshot.policies.schema
    cedar = cedar_request(request)
    delta = principal_json(request.principal)
    policy_text = "\n".join(texts[name] for name in sorted(texts))
    entities_list = json.loads(str(snapshot.entities)) + json.loads(delta)

    def ztai() -> bool:
        return authorizer.decide(request).is_allow

    def ztai_cold() -> bool:
        # the same path without the remembered decision: every call asks Cedar
        return evaluate(authorizer.snapshot, [request])[0].decision.is_allow

    def raw_handles() -> bool:
        entities = snapshot.entities.with_added_json_str(delta)
        return cedarpy.is_authorized(cedar, policies, entities, schema).allowed

    def naive() -> bool:
        return cedarpy.is_authorized(cedar, policy_text, entities_list).allowed

    return {"authorizer": ztai, "authorizer-cold": ztai_cold, "raw-handles": raw_handles,
            "naive": naive}


def per_call_us(func: Callable[[], bool], iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        func()
    return (time.perf_counter() - start) / iters * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--policies", type=int, default=50, help="extra policies beyond the starter"
    )
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--iters", type=int, default=300)
    args = parser.parse_args()
    authorizer, request, texts = build(args)
    funcs = variants(authorizer, request, texts)
    answers = {name: func() for name, func in funcs.items()}
    assert len(set(answers.values())) == 1, f"variants disagree: {answers}"
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(args.rounds):
        for name, func in funcs.items():
            samples[name].append(per_call_us(func, args.iters))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    policies = len(authorizer.snapshot.policies.sources)
    print(f"{policies} policies, {args.models} models, {args.rounds} rounds x {args.iters} calls")
    for name, value in medians.items():
        print(f"  {name:<12} {value:9.1f} µs/decision")
    print(f"  naive / authorizer (remembered decision) = "
          f"{medians['naive'] / medians['authorizer']:.1f}x")
    print(f"  naive / authorizer-cold (Cedar evaluated) = "
          f"{medians['naive'] / medians['authorizer-cold']:.1f}x")


if __name__ == "__main__":
    main()

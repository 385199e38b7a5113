"""CedarAuthorizer decisions: allow, forbid, default deny, tags, groups, context, fail closed."""

from __future__ import annotations

import cedarpy
import pytest

from ztai.core.model import (
    GATEWAY,
    Action,
    Effect,
    Exchange,
    ExchangeId,
    PrincipalKind,
    Resource,
    ResourceKind,
)
from ztai.policy.cedar import DEFAULT_DENY, CedarAuthorizer
from ztai.policy.compiler import compile_policies
from ztai.policy.entities import request_for
from ztai.policy.interface import AuthzRequest, PolicyError
from ztai.policy.model import ResourceEntity

from .support import CONTEXT, PolicyDir, ask, catalogue, model, user

BASE = """
@id("staff-models")
@reason("staff may use models")
permit (
  principal in Group::"staff",
  action in [Action::"invoke_model", Action::"embed", Action::"list_models"],
  resource
);

permit (principal == Agent::"indexer", action == Action::"embed", resource);

@id("oidc-only")
@reason("callers signed in with OIDC may list models")
permit (principal, action == Action::"list_models", resource)
when { context.auth_method == "oidc" };
"""

GUARDS = """
@id("no-consumer-for-contractors")
@reason("contractors may not use consumer models")
forbid (
  principal in Group::"contractors",
  action in [Action::"invoke_model", Action::"embed"],
  resource
) when { resource.tier == "consumer" };

@id("eng-internal")
forbid (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { resource.tier == "internal" }
unless { principal.hasTag("dept") && principal.getTag("dept") == "eng" };

@id("no-stream-for-batch")
forbid (principal in Group::"batch", action, resource) when { context.stream };
"""

STAFF_REASON = ("staff may use models",)
CONSUMER_REASON = ("contractors may not use consumer models",)


@pytest.fixture
def authorizer(policy_dir: PolicyDir, schema: cedarpy.Schema) -> CedarAuthorizer:
    policy_dir.write("00-base.cedar", BASE)
    policy_dir.write("10-guards.cedar", GUARDS)
    return policy_dir.authorizer(schema)


AGENT = user("indexer", kind=PrincipalKind.AGENT)
SERVICE = user("ci", ("staff",), kind=PrincipalKind.SERVICE)

CASES = [
    (
        "staff may invoke",
        ask(user(groups=("staff",))),
        Effect.ALLOW,
        STAFF_REASON,
        ("staff-models",),
    ),
    ("no group: default deny", ask(user()), Effect.DENY, (DEFAULT_DENY,), ()),
    (
        "forbid overrides permit",
        ask(user(groups=("staff", "contractors")), resource=model("gpt-consumer")),
        Effect.DENY,
        CONSUMER_REASON,
        ("no-consumer-for-contractors",),
    ),
    (
        "contractor on sanctioned model",
        ask(user(groups=("staff", "contractors"))),
        Effect.ALLOW,
        STAFF_REASON,
        ("staff-models",),
    ),
    (
        "permit without @id or @reason",
        ask(AGENT, Action.EMBED),
        Effect.ALLOW,
        ("permitted by 00-base.cedar#1",),
        ("00-base.cedar#1",),
    ),
    ("agent outside its grant", ask(AGENT), Effect.DENY, (DEFAULT_DENY,), ()),
    (
        "missing tag: forbid without @reason",
        ask(user(groups=("staff",)), resource=model("gpt-internal")),
        Effect.DENY,
        ("forbidden by eng-internal",),
        ("eng-internal",),
    ),
    (
        "tag matches",
        ask(user(groups=("staff",), tags={"dept": "eng"}), resource=model("gpt-internal")),
        Effect.ALLOW,
        STAFF_REASON,
        ("staff-models",),
    ),
    (
        "tag differs",
        ask(user(groups=("staff",), tags={"dept": "sales"}), resource=model("gpt-internal")),
        Effect.DENY,
        ("forbidden by eng-internal",),
        ("eng-internal",),
    ),
    (
        "service lists models",
        ask(SERVICE, Action.LIST_MODELS),
        Effect.ALLOW,
        STAFF_REASON,
        ("staff-models",),
    ),
    (
        "unknown model",
        ask(user(groups=("staff",)), resource=model("nope")),
        Effect.DENY,
        ('unknown resource Model::"nope"',),
        (),
    ),
    (
        "a tool (named at run time, never in the catalogue) no policy permits",
        ask(user(groups=("staff",)), Action.CALL_TOOL, Resource(ResourceKind.TOOL, "shell")),
        Effect.DENY,
        ("no policy permits this request (default deny)",),
        (),
    ),
]


@pytest.mark.parametrize(
    ("request_", "effect", "reasons", "ids"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(
    authorizer: CedarAuthorizer,
    request_: AuthzRequest,
    effect: Effect,
    reasons: tuple[str, ...],
    ids: tuple[str, ...],
) -> None:
    decision = authorizer.decide(request_)
    assert (decision.effect, decision.reasons, decision.policy_ids) == (effect, reasons, ids)


def test_context_signals_reach_policies(authorizer: CedarAuthorizer) -> None:
    principal = user(groups=("staff", "batch"))
    streaming = AuthzRequest(
        principal, Action.INVOKE_MODEL, model("gpt-sanctioned"), {**CONTEXT, "stream": True}
    )
    assert authorizer.decide(ask(principal)).is_allow
    assert authorizer.decide(streaming).policy_ids == ("no-stream-for-batch",)


def test_context_cannot_claim_another_auth_method(authorizer: CedarAuthorizer) -> None:
    spoofed = AuthzRequest(user(), Action.LIST_MODELS, GATEWAY, {**CONTEXT, "auth_method": "oidc"})
    assert authorizer.decide(spoofed).reasons == (DEFAULT_DENY,)


@pytest.mark.parametrize(
    "context",
    [
        {"route": "/v1/models"},
        {"route": 1, "stream": False},
        {**CONTEXT, "colour": "blue"},
        {**CONTEXT, "mfa": "yes"},
        {**CONTEXT, "route": object()},
    ],
    ids=["missing", "wrong-type", "undeclared", "optional-wrong-type", "not-json"],
)
def test_invalid_context_cannot_be_decided(
    authorizer: CedarAuthorizer, context: dict[str, object]
) -> None:
    request = AuthzRequest(
        user(groups=("staff",)), Action.INVOKE_MODEL, model("gpt-sanctioned"), context
    )
    with pytest.raises(PolicyError):
        authorizer.decide(request)


def test_resource_type_wrong_for_action_cannot_be_decided(authorizer: CedarAuthorizer) -> None:
    with pytest.raises(PolicyError):
        authorizer.decide(ask(user(groups=("staff",)), Action.INVOKE_MODEL, GATEWAY))


def test_optional_context_signal_is_accepted(authorizer: CedarAuthorizer) -> None:
    request = AuthzRequest(
        user(groups=("staff",)),
        Action.INVOKE_MODEL,
        model("gpt-sanctioned"),
        {**CONTEXT, "mfa": True, "risk_level": "low"},
    )
    assert authorizer.decide(request).is_allow


def test_principal_ids_are_data_not_syntax(authorizer: CedarAuthorizer) -> None:
    odd = user('x"; permit(principal, action, resource); //\n', ("staff",))
    assert authorizer.decide(ask(odd)).is_allow
    assert not authorizer.decide(ask(user('staff"'))).is_allow


def test_decide_many_keeps_order_and_matches_decide(authorizer: CedarAuthorizer) -> None:
    contractor = user("bob", ("staff", "contractors"))
    requests = [
        ask(contractor, resource=model(name))
        for name in ("gpt-consumer", "gpt-internal", "gpt-sanctioned", "nope")
    ]
    requests += [ask(AGENT, Action.EMBED), ask(user())]
    decisions = authorizer.decide_many(requests)
    assert [d.is_allow for d in decisions] == [False, False, True, False, True, False]
    assert decisions == [authorizer.decide(request) for request in requests]


def test_decide_many_of_nothing(authorizer: CedarAuthorizer) -> None:
    assert authorizer.decide_many([]) == []


def test_decide_many_rejects_two_principals_with_one_id(authorizer: CedarAuthorizer) -> None:
    with pytest.raises(PolicyError):
        authorizer.decide_many([ask(user(groups=("staff",))), ask(user(groups=("admins",)))])


def test_empty_policy_set_denies_everything(schema: cedarpy.Schema) -> None:
    authorizer = CedarAuthorizer(compile_policies({}, schema), catalogue())
    decision = authorizer.decide(ask(user(groups=("staff", "admins"))))
    assert (decision.effect, decision.reasons) == (Effect.DENY, (DEFAULT_DENY,))


GOOD = ResourceEntity(model("m"), {"upstream": "openai", "tier": "internal"})
BAD_CATALOGUES = {
    "missing attribute": [ResourceEntity(model("m"), {"upstream": "openai"})],
    "wrong attribute type": [ResourceEntity(model("m"), {"upstream": "openai", "tier": 3})],
    "parent the schema forbids": [ResourceEntity(model("m"), GOOD.attributes, (GATEWAY,))],
    "duplicate": [GOOD, ResourceEntity(model("m"), {"upstream": "x", "tier": "internal"})],
}


@pytest.mark.parametrize("items", BAD_CATALOGUES.values(), ids=BAD_CATALOGUES.keys())
def test_catalogue_must_fit_the_schema(schema: cedarpy.Schema, items: list[ResourceEntity]) -> None:
    with pytest.raises(PolicyError):
        CedarAuthorizer(compile_policies({}, schema), items)


def test_gateway_is_always_in_the_catalogue(schema: cedarpy.Schema) -> None:
    for items in ([GOOD], [GOOD, ResourceEntity(GATEWAY)]):
        authorizer = CedarAuthorizer(compile_policies({}, schema), items)
        assert authorizer.snapshot.resources == {GATEWAY, model("m")}


def test_request_for_an_exchange(authorizer: CedarAuthorizer) -> None:
    exchange = Exchange(
        ExchangeId("x1"),
        "/v1/embeddings",
        Action.EMBED,
        model("gpt-sanctioned"),
        stream=True,
        signals={"risk": 3},
    )
    request = request_for(user(groups=("staff",)), exchange)
    assert request.context == {"route": "/v1/embeddings", "stream": True}
    assert (request.action, request.resource) == (Action.EMBED, model("gpt-sanctioned"))
    assert authorizer.decide(request).is_allow


OVERFLOW = """
@id("permit-staff")
permit (principal in Group::"staff", action, resource);

@id("overflowing-forbid")
forbid (principal, action, resource) when { 9223372036854775807 + 1 > 0 };
"""


def test_cedar_itself_skips_an_erroring_forbid(schema: cedarpy.Schema) -> None:
    """Why ztai fails closed: Cedar allows when the only forbid errors."""
    loaded = compile_policies({"p.cedar": OVERFLOW}, schema)
    request = {
        "principal": 'User::"a"',
        "action": 'Action::"list_models"',
        "resource": 'Gateway::"gateway"',
        "context": {**CONTEXT, "auth_method": "x", "principal_kind": "user"},
    }
    entities = [
        {
            "uid": {"type": "User", "id": "a"},
            "attrs": {},
            "parents": [{"type": "Group", "id": "staff"}],
        }
    ]
    result = cedarpy.is_authorized(request, loaded.policy_set, entities, schema)
    assert result.allowed
    assert result.diagnostics.errors


def test_erroring_policy_fails_closed(schema: cedarpy.Schema) -> None:
    authorizer = CedarAuthorizer(compile_policies({"p.cedar": OVERFLOW}, schema), catalogue())
    decision = authorizer.decide(ask(user(groups=("staff",)), Action.LIST_MODELS))
    assert decision.effect is Effect.DENY
    assert decision.policy_ids == ("overflowing-forbid",)
    assert decision.reasons == (
        "policy evaluation failed (overflowing-forbid); denied to fail closed",
    )


def test_erroring_policy_next_to_a_matching_forbid(schema: cedarpy.Schema) -> None:
    text = OVERFLOW + '@id("forbid-all")\nforbid (principal, action, resource);\n'
    authorizer = CedarAuthorizer(compile_policies({"p.cedar": text}, schema), catalogue())
    decision = authorizer.decide(ask(user(groups=("staff",)), Action.LIST_MODELS))
    assert decision.effect is Effect.DENY
    assert decision.policy_ids == ("forbid-all", "overflowing-forbid")
    assert len(decision.reasons) == 2

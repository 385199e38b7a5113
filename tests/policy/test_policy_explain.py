"""``explain``: the decision with the deciding policies' file, line, annotations and text."""

from __future__ import annotations

import cedarpy
import pytest

from ztai.core.model import Action, Effect
from ztai.policy.cedar import DEFAULT_DENY, CedarAuthorizer
from ztai.policy.compiler import compile_policies
from ztai.policy.explain import explain, render

from .support import ask, catalogue, model, user

POLICIES = {
    "00-base.cedar": (
        "// grants\n"
        '@id("staff")\n@reason("staff may use models")\n'
        'permit (principal in Group::"staff", action, resource);\n'
    ),
    "10-guard.cedar": (
        '@id("no-consumer")\n@reason("no consumer models")\n'
        'forbid (principal, action == Action::"invoke_model", resource)\n'
        'when { resource.tier == "consumer" };\n'
        '@id("overflow")\nforbid (principal in Group::"odd", action, resource)\n'
        "when { 9223372036854775807 + 1 > 0 };\n"
    ),
}


@pytest.fixture
def authorizer(schema: cedarpy.Schema) -> CedarAuthorizer:
    return CedarAuthorizer(compile_policies(POLICIES, schema), catalogue())


def test_allow_names_the_permit(authorizer: CedarAuthorizer) -> None:
    found = explain(authorizer, ask(user(groups=("staff",))))
    assert found.decision.effect is Effect.ALLOW
    [policy] = found.policies
    assert (policy.id, policy.file, policy.line, policy.effect) == (
        "staff",
        "00-base.cedar",
        2,
        "permit",
    )
    assert policy.reason == "staff may use models"
    assert policy.text.startswith('@id("staff")')
    assert found.errors == ()


def test_forbid_is_rendered(authorizer: CedarAuthorizer) -> None:
    found = explain(authorizer, ask(user(groups=("staff",)), resource=model("gpt-consumer")))
    assert [p.id for p in found.policies] == ["no-consumer"]
    assert render(found).splitlines()[:4] == [
        "decision: deny",
        "reason: no consumer models",
        "",
        "policy no-consumer (forbid, 10-guard.cedar:1)",
    ]
    assert '  when { resource.tier == "consumer" };' in render(found)


def test_default_deny_names_nothing(authorizer: CedarAuthorizer) -> None:
    found = explain(authorizer, ask(user(), Action.LIST_MODELS))
    assert (found.decision.reasons, found.policies) == ((DEFAULT_DENY,), ())


def test_errors_are_shown(authorizer: CedarAuthorizer) -> None:
    found = explain(authorizer, ask(user(groups=("staff", "odd"))))
    assert [p.id for p in found.policies] == ["overflow"]
    assert found.errors
    assert "error: " in render(found)

"""DLP rules (``@dlp`` permits): kept apart from the enforced set so they never grant, matched
for a request strongest action first, remembered per request, and refused at load when
misspelt or misused."""

from __future__ import annotations

import cedarpy
import pytest

from tests.policy.support import CONTEXT, PolicyDir, ask, model, user
from ztai.core.model import Action
from ztai.policy.compiler import PolicyLoadError, compile_policies
from ztai.policy.interface import AuthzRequest, PolicyError
from ztai.policy.model import DlpRule

RULES = """
@id("use") permit (principal in Group::"staff", action == Action::"invoke_model", resource);

@id("note") @dlp("audit")
permit (principal, action == Action::"invoke_model", resource);

@id("pseudo") @dlp("redact") @kinds("pii.* term.obsidian") @method("pseudonymise")
@reason("pseudonyms for consumer models")
permit (principal, action == Action::"invoke_model", resource)
when { resource.tier == "consumer" };

@id("stop") @dlp("block") @reason("no secrets to consumer models")
permit (principal, action == Action::"invoke_model", resource)
when { resource.tier == "consumer" && context has finding_families
       && context.finding_families.contains("secret") };
"""


def test_rules_never_grant(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    policy_dir.write("p.cedar", RULES)
    authorizer = policy_dir.authorizer(schema)
    outsider = user("mallory")
    assert not authorizer.decide(ask(outsider)).is_allow  # @dlp permits hold, but grant nothing
    assert authorizer.decide(ask(user("alice", ("staff",)))).is_allow
    assert [r.id for r in authorizer.rules_for(ask(outsider))] == ["note"]


def test_rules_holding_strongest_first(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    policy_dir.write("p.cedar", RULES)
    authorizer = policy_dir.authorizer(schema)
    context = {**CONTEXT, "finding_families": ("pii", "secret")}
    request = AuthzRequest(user(), Action.INVOKE_MODEL, model("gpt-consumer"), context)
    held = authorizer.rules_for(request)
    assert [r.id for r in held] == ["stop", "pseudo", "note"]
    assert held[1] == DlpRule("pseudo", "redact", "pseudonyms for consumer models",
                              ("pii.*", "term.obsidian"), "pseudonymise")
    assert authorizer.rules_for(request) is held  # remembered for the same request
    unknown = AuthzRequest(user(), Action.INVOKE_MODEL, model("no-such-model"), context)
    assert authorizer.rules_for(unknown) == ()


def test_no_rules_costs_nothing(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    policy_dir.write("p.cedar", '@id("use") permit (principal, action, resource);')
    authorizer = policy_dir.authorizer(schema)
    assert authorizer.snapshot.policies.rule_set is None
    assert authorizer.rules_for(ask(user())) == ()


def test_a_rule_that_fails_to_evaluate_fails_closed(policy_dir: PolicyDir,
                                                     schema: cedarpy.Schema) -> None:
    policy_dir.write("p.cedar", """
@id("stop") @dlp("block")
permit (principal, action == Action::"invoke_model", resource)
when { context has hour && context.hour * 9223372036854775807 > 1 };
""")
    authorizer = policy_dir.authorizer(schema)
    request = AuthzRequest(user(), Action.INVOKE_MODEL, model("gpt-consumer"),
                           {**CONTEXT, "hour": 2})
    with pytest.raises(PolicyError, match="stop"):
        authorizer.rules_for(request)  # overflow: Cedar skips the rule; ztai refuses


@pytest.mark.parametrize(("text", "problem"), [
    ('@dlp("shred") permit (principal, action, resource);', "unknown @dlp 'shred'"),
    ('@dlp("block") forbid (principal, action, resource);', "written as permit"),
    ('@dlp("redact") @kinds("pii.*") @method("blur") permit (principal, action, resource);',
     "unknown @method 'blur'"),
    ('@dlp("redact") permit (principal, action, resource);', "names the kinds"),
    ('@dlp("block") @obligation("step_up") permit (principal, action, resource);',
     "cannot carry an @obligation"),
])
def test_misused_rules_stop_the_load(schema: cedarpy.Schema, text: str, problem: str) -> None:
    with pytest.raises(PolicyLoadError) as raised:
        compile_policies({"dlp.cedar": text}, schema)
    assert any(problem in p.message for p in raised.value.problems), raised.value.problems

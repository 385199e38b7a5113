"""The package data: the schema and the starter policies, read through importlib.resources."""

from __future__ import annotations

import itertools
from pathlib import Path

import cedarpy
import pytest

from ztai.core.model import Action
from ztai.policy.bundled import load_schema, schema_text, starter_policies
from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.compiler import compile_policies
from ztai.policy.explain import validate_dir

from .support import ask, catalogue, model, user


def test_schema_declares_the_actions() -> None:
    text = schema_text()
    for action in Action:
        assert f"{action.value}" in text
    assert isinstance(load_schema(), cedarpy.Schema)


def test_starter_policies_are_valid(tmp_path: Path, schema: cedarpy.Schema) -> None:
    starters = starter_policies()
    assert sorted(starters) == ["00-baseline.cedar", "10-guardrails.cedar",
                                "20-data-protection.cedar", "30-agents.cedar"]
    for name, text in starters.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert validate_dir(tmp_path) == []
    loaded = compile_policies(starters, schema)
    assert set(loaded.sources) == {
        "staff-use-models", "admins-use-models", "contractors-no-consumer-models",
        "anyone-accepts-terms", "admins-administer", "agents-get-tokens",
        "staff-delegate-to-agents", "no-confidential-to-consumer-models",
        "no-unscanned-attachments-to-consumer-models",
        "mask-credentials-in-prompts", "pseudonymise-personal-data-for-consumer-models",
        "no-credentials-in-answers", "no-prompt-attacks", "no-poisoned-tool-definitions",
        "no-exfiltration-in-answers",
        "staff-use-tools", "no-outbound-after-attack", "hold-outbound-from-untrusted-sessions",
        "no-unreviewed-hosted-mcp-servers",
        "no-system-prompt-leaks", "staff-retrieve-knowledge",
        "contractors-below-confidential-knowledge", "no-confidential-knowledge-at-elevated-risk"}
    assert {rule.id for rule in loaded.rules()} == {
        "mask-credentials-in-prompts", "pseudonymise-personal-data-for-consumer-models",
        "no-credentials-in-answers", "no-exfiltration-in-answers", "no-system-prompt-leaks"}


def test_every_starter_policy_has_a_reason(schema: cedarpy.Schema) -> None:
    sources = compile_policies(starter_policies(), schema).sources.values()
    assert all(source.reason for source in sources)


STARTER_CASES = [
    (("staff",), "gpt-consumer", True),
    (("admins",), "gpt-internal", True),
    (("staff", "contractors"), "gpt-consumer", False),
    (("staff", "contractors"), "gpt-sanctioned", True),
    ((), "gpt-sanctioned", False),
]


@pytest.mark.parametrize(("groups", "name", "allowed"), STARTER_CASES)
def test_starter_decisions(
    schema: cedarpy.Schema, groups: tuple[str, ...], name: str, allowed: bool
) -> None:
    authorizer = CedarAuthorizer(compile_policies(starter_policies(), schema), catalogue())
    assert authorizer.decide(ask(user(groups=groups), resource=model(name))).is_allow is allowed


def test_commented_examples_are_valid(schema: cedarpy.Schema) -> None:
    text = starter_policies()["10-guardrails.cedar"]
    blocks = [block for block in text.split("//\n") if block.lstrip().startswith("// @id(")]
    uncommented = "\n".join(
        line.removeprefix("//").removeprefix(" ")
        for block in blocks for line in itertools.takewhile(
            lambda line: line.startswith("//"), block.strip().splitlines())
    )
    loaded = compile_policies({"example.cedar": uncommented}, schema)
    assert list(loaded.sources) == ["internal-models-eng-only", "mfa-for-consumer-models",
                                    "compliant-device-for-confidential", "terms-first"]

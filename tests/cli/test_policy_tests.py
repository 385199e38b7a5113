"""``ztai policy test`` and policy obligations (step-up, terms, approval)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ztai.cli.main import app

runner = CliRunner()

STEP_UP = """
@id("mfa-for-consumer")
@reason("consumer-tier models need multi-factor authentication")
@obligation("step_up")
@acr_values("urn:ztai:mfa")
forbid (principal, action == Action::"invoke_model", resource)
when { resource.tier == "consumer" }
unless { context has mfa && context.mfa };
"""

CASES = """
cases:
  - name: staff may chat
    principal: {id: alice, groups: [staff]}
    action: invoke_model
    resource: Model::demo-chat
    expect: allow
    policies: [staff-use-models]
  - name: no grant, no chat
    principal: {id: ci-bot, kind: service}
    action: invoke_model
    resource: {type: Model, id: demo-chat}
    expect: deny
    policies: []
  - name: consumer tier without mfa asks for step-up
    principal: {id: alice, groups: [staff]}
    action: invoke_model
    resource: Model::demo-consumer-chat
    expect: deny
    policies: [mfa-for-consumer]
    obligations: [step_up]
  - name: consumer tier with mfa
    principal: {id: alice, groups: [staff]}
    action: invoke_model
    resource: Model::demo-consumer-chat
    context: {mfa: true}
    expect: allow
  - name: an unconfigured model described in the case
    principal: {id: bob, groups: [staff, contractors]}
    action: invoke_model
    resource: {type: Model, id: shiny, attributes: {upstream: x, tier: consumer}}
    expect: deny
    policies: [contractors-no-consumer-models, mfa-for-consumer]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    assert runner.invoke(app, ["init", str(tmp_path / "cfg")]).exit_code == 0
    (tmp_path / "cfg" / "policies" / "20-mfa.cedar").write_text(STEP_UP)
    return tmp_path / "cfg" / "ztai.yaml"


def test_policy_test_passes_and_reports(config: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES)
    result = runner.invoke(app, ["policy", "test", str(cases), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "5 passed, 0 failed" in result.output


def test_policy_test_fails_on_a_wrong_expectation(config: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES.replace("expect: allow\n    policies: [staff-use-models]",
                                   "expect: deny\n    policies: [staff-use-models]"))
    result = runner.invoke(app, ["policy", "test", str(cases), "--config", str(config)])
    assert result.exit_code == 1
    assert "expected deny, got allow" in result.output
    assert "4 passed, 1 failed" in result.output


@pytest.mark.parametrize("bad", ["cases: 3", "[]", "cases:\n  - {name: x, action: fly}",
                                 # the second expectation replaced the first before 2026-11-28
                                 "cases:\n  - {name: x, principal: {id: alice, groups: [staff]},"
                                 " action: invoke_model, resource: Model::demo-chat,"
                                 " expect: deny, expect: allow}"])
def test_policy_test_rejects_malformed_files(config: Path, tmp_path: Path, bad: str) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(bad)
    result = runner.invoke(app, ["policy", "test", str(cases), "--config", str(config)])
    assert result.exit_code == 1
    assert "error" in result.output
    assert "passed" not in result.output


def test_a_misspelt_obligation_is_a_validation_error(config: Path) -> None:
    policy = config.parent / "policies" / "30-typo.cedar"
    policy.write_text('@obligation("stepup")\nforbid (principal, action, resource);\n')
    result = runner.invoke(app, ["policy", "validate", "--config", str(config)])
    assert result.exit_code == 1
    assert "unknown @obligation 'stepup'" in result.output


def test_validate_names_what_it_does_not_read(config: Path) -> None:
    policies = config.parent / "policies"
    (policies / "team-a").mkdir()
    (policies / "90-deny.CEDAR").write_text("forbid(principal, action, resource);")
    result = runner.invoke(app, ["policy", "validate", "--config", str(config)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "90-deny.CEDAR: not read" in result.output
    assert "team-a/: folders are not read" in result.output

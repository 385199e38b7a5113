"""``evaluate_secrets`` on the fixture sample (37 cases from gitleaks and detect-secrets, see
fixtures/secrets/ATTRIBUTION.md), with counts worked out case by case, and the loaders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ztai.protection.secrets_detector import SecretDetector
from ztai.protection.secrets_eval import (
    CaseFileError,
    Counts,
    Excluded,
    SecretCase,
    SecretsReport,
    evaluate_secrets,
    load_detect_secrets_cases,
    load_gitleaks_cases,
    load_secret_cases,
)

FIXTURES = Path(__file__).parent / "fixtures" / "secrets"


@pytest.fixture(scope="module")
def report() -> SecretsReport:
    return evaluate_secrets(load_secret_cases(FIXTURES), SecretDetector.build())


def test_loaders_read_both_formats() -> None:
    cases = load_secret_cases(FIXTURES)
    assert len(cases) == 37
    assert cases[0] == SecretCase("gitleaks", "aws-access-token", "key = AKIAXXXXXXXXXXXXXXXX",
                                  False, "secret.aws-access-token")
    stripe = [c for c in cases if c.rule == "stripe_key"]
    assert [(c.positive, c.kind) for c in stripe] == [(True, None), (True, None), (False, None),
                                                      (False, None)]


def test_gitleaks_sample_counts(report: SecretsReport) -> None:
    gitleaks = report.sources[1]
    assert gitleaks.source == "gitleaks"
    # 10 positives found by their own rule; 12 negatives none of which their own rule flags
    assert gitleaks.counts == Counts(tp=10, fn=0, fp=0, tn=12)
    # ...but '"token1": "xoxp-1234567890"' (a slack-user-token negative) is generic-api-key's
    assert gitleaks.any_kind == Counts(tp=10, fn=0, fp=1, tn=11)
    assert (gitleaks.counts.precision, gitleaks.counts.recall, gitleaks.counts.fpr) == (1, 1, 0)


def test_detect_secrets_sample_counts(report: SecretsReport) -> None:
    detect = report.sources[0]
    assert detect.source == "detect-secrets"
    # found: 2 stripe, github, basic auth URL, the signed JWT; missed: the two-segment JWT and
    # 'AP6xxxxxxxxxx'; flagged negative: '_authToken=<uuid>' (generic rule)
    assert detect.counts == Counts(tp=5, fn=2, fp=1, tn=5)
    assert detect.counts.precision == pytest.approx(5 / 6)
    assert detect.counts.recall == pytest.approx(5 / 7)
    assert detect.counts.fpr == pytest.approx(1 / 6)
    rules = {r.rule: r.counts for r in detect.rules}
    assert rules["jwt"] == Counts(tp=1, fn=1, fp=0, tn=2)
    assert rules["npm"] == Counts(fp=1)


def test_exclusions_and_skipped_rules_are_reported(report: SecretsReport) -> None:
    assert report.excluded == (
        Excluded("detect-secrets", "ip_public", 1,
                 "public IP addresses are not credentials (a PII kind)"),
        Excluded("gitleaks", "gcp-service-account", 1, "rule not in the rule set"))
    assert [s.rule_id for s in report.skipped] == ["pkcs12-file"]
    assert report.rules_in_use == 221
    assert "kubernetes-secret-yaml" in report.unscoped


def test_counts_without_cases_have_no_ratios() -> None:
    empty = Counts()
    assert (empty.precision, empty.recall, empty.fpr) == (None, None, None)
    assert empty.add(True, True).add(False, False) == Counts(tp=1, tn=1)


@pytest.mark.parametrize(("loader", "line"), [
    (load_gitleaks_cases, '{"rule_id": "x", "label": "maybe", "text": "t"}'),
    (load_gitleaks_cases, '{"rule_id": "x", "text": "t"}'),
    (load_detect_secrets_cases, '{"plugin_test": "a_test.py", "text": "t"}'),
    (load_detect_secrets_cases, "not json"),
])
def test_malformed_case_files_are_refused(
        tmp_path: Path, loader: Callable[[Path], list[SecretCase]], line: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError):
        loader(path)

"""Labels: order, external ids, rules from findings, inheritance of the highest."""

from __future__ import annotations

import pytest

from ztai.protection.labels import LabelRule, LabelScheme, UnknownLabel, inherit

SCHEME = LabelScheme(
    rules=(LabelRule(("secret.*",), "Highly Confidential"),
           LabelRule(("pii.credit_card", "pii.us_ssn"), "Confidential"),
           LabelRule(("pii.email",), "General")),
    external={"defa4170-0d19-0005-000a-bc88714345d2": "Confidential"},
)


@pytest.mark.parametrize(("labels", "highest"), [
    ([], None),
    ([None, "Public"], "Public"),
    (["General", "Confidential", "Public"], "Confidential"),
    (["defa4170-0d19-0005-000a-bc88714345d2", "General"], "Confidential"),
])
def test_highest(labels: list[str | None], highest: str | None) -> None:
    assert SCHEME.highest(labels) == highest


@pytest.mark.parametrize(("kinds", "label"), [
    ([], None),
    (["pii.email"], "General"),
    (["pii.email", "pii.us_ssn"], "Confidential"),
    (["secret.aws-access-token"], "Highly Confidential"),
    (["pii.phone"], None),
])
def test_rules_derive_labels(kinds: list[str], label: str | None) -> None:
    assert SCHEME.derive(kinds) == label


def test_inheritance_takes_the_highest_of_inputs_sources_and_findings() -> None:
    assert inherit(SCHEME, ["General", None], ["pii.credit_card"]) == "Confidential"
    assert inherit(SCHEME, ["Highly Confidential"], ["pii.email"]) == "Highly Confidential"
    assert inherit(SCHEME, [], []) is None


def test_unknown_labels_are_errors_not_unlabelled() -> None:
    with pytest.raises(UnknownLabel):
        SCHEME.highest(["Top Secret"])
    with pytest.raises(UnknownLabel):
        LabelScheme(rules=(LabelRule(("x",), "Secret"),))
    with pytest.raises(ValueError, match="distinct"):
        LabelScheme(order=("A", "A"))


def test_at_least() -> None:
    assert SCHEME.at_least("Highly Confidential", "Confidential")
    assert not SCHEME.at_least("General", "Confidential")
    assert not SCHEME.at_least(None, "Public")

"""The control-state values check what they are given and answer ``is_active`` exactly."""

from __future__ import annotations

import dataclasses

import pytest

from ztai.storage.model import AccessGrant, AgentRecord, GrantStatus, RiskLevel, RiskRecord


def test_a_risk_level_given_as_text_is_checked_and_converted() -> None:
    record = RiskRecord("user:alice", "elevated", "", "user:secops", 1.0)  # type: ignore[arg-type]
    assert record.level is RiskLevel.ELEVATED
    with pytest.raises(ValueError, match="severe"):
        RiskRecord("user:alice", "severe", "", "user:secops", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("duration_s", [0.0, -1.0, float("inf"), float("nan")])
def test_a_grant_needs_a_positive_finite_duration(duration_s: float) -> None:
    with pytest.raises(ValueError, match="duration_s"):
        AccessGrant("g1", "user:bob", "admin", "", duration_s, 1.0)


@pytest.mark.parametrize(
    ("status", "expires_at", "now", "active"),
    [
        (GrantStatus.APPROVED, 100.0, 99.9, True),
        (GrantStatus.APPROVED, 100.0, 100.0, False),
        (GrantStatus.APPROVED, None, 1.0, False),
        (GrantStatus.PENDING, 100.0, 1.0, False),
        (GrantStatus.DENIED, 100.0, 1.0, False),
        (GrantStatus.EXPIRED, 100.0, 1.0, False),
        (GrantStatus.CANCELLED, 100.0, 1.0, False),
    ],
)
def test_a_grant_is_active_only_when_approved_and_unexpired(
    status: GrantStatus, expires_at: float | None, now: float, active: bool
) -> None:
    grant = AccessGrant("g1", "user:bob", "admin", "", 60.0, 1.0, status, expires_at=expires_at)
    assert grant.is_active(now) is active


def test_same_request_ignores_the_decision_only() -> None:
    grant = AccessGrant("g1", "user:bob", "admin", "why", 60.0, 1.0)
    decided = dataclasses.replace(grant, status=GrantStatus.DENIED, decided_by="x",
                                  decided_at=2.0, expires_at=3.0, note="n")
    assert grant.is_same_request(decided)
    assert not grant.is_same_request(dataclasses.replace(grant, role="root"))
    assert not grant.is_same_request(dataclasses.replace(grant, grant_id="g2"))


@pytest.mark.parametrize(
    ("disabled", "expires_at", "now", "active"),
    [
        (False, None, 1e12, True),
        (False, 100.0, 99.0, True),
        (False, 100.0, 100.0, False),
        (True, None, 1.0, False),
        (True, 100.0, 1.0, False),
    ],
)
def test_an_agent_is_active_unless_disabled_or_expired(
    disabled: bool, expires_at: float | None, now: float, active: bool
) -> None:
    agent = AgentRecord("a1", "user:alice", {}, frozenset(), expires_at=expires_at,
                        disabled=disabled)
    assert agent.is_active(now) is active

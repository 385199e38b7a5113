"""The contract every ControlStore backend keeps (agents, revocations, terms, risk, grants and
the shared control version), written against the interfaces only."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import pytest

from ztai.storage.interface import ControlStore, DuplicateKey
from ztai.storage.model import (
    AccessGrant,
    AgentRecord,
    GrantStatus,
    Revocation,
    RevocationKind,
    RiskLevel,
    RiskRecord,
    TermsAcceptance,
)

_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "agent-1#2026",
    "key_ops": ["verify"],
    "ext": True,
    "nested": {"n": 1, "f": 0.5, "none": None, "ünïcode": "ключ"},
}


def _agent(agent_id: str, created_at: float = 1.0, **changes: object) -> AgentRecord:
    record = AgentRecord(
        agent_id=agent_id,
        sponsor="user:alice",
        public_jwk=_JWK,
        allowed_models=frozenset({"gpt-4o", "llama-3"}),
        groups=frozenset({"agents", "eng"}),
        created_at=created_at,
        expires_at=created_at + 3600.0,
        description="nightly summariser",
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]  # test factory


def _grant(grant_id: str, requested_at: float = 10.0) -> AccessGrant:
    return AccessGrant(grant_id, "user:bob", "admin", "incident 42", 900.0, requested_at)


def _approved(grant: AccessGrant, by: str = "user:carol", at: float = 20.0) -> AccessGrant:
    return dataclasses.replace(grant, status=GrantStatus.APPROVED, decided_by=by,
                               decided_at=at, expires_at=at + grant.duration_s)


def _risk(principal: str, level: RiskLevel, at: float, reason: str = "") -> RiskRecord:
    return RiskRecord(principal, level, reason, "user:secops", at)


# --- AgentStore -------------------------------------------------------------------------------


def test_a_stored_agent_reads_back_equal(control_store: ControlStore) -> None:
    record = _agent("a1")
    control_store.put_agent(record)
    assert control_store.get_agent("a1") == record
    assert control_store.get_agent("nope") is None
    stored = control_store.get_agent("a1")
    assert stored is not None
    assert isinstance(stored.allowed_models, frozenset)
    assert isinstance(stored.groups, frozenset)
    assert stored.public_jwk["nested"] == {"n": 1, "f": 0.5, "none": None, "ünïcode": "ключ"}


def test_an_agent_without_optional_fields_reads_back_equal(control_store: ControlStore) -> None:
    record = AgentRecord("a1", "user:alice", {"kty": "OKP"}, frozenset())
    control_store.put_agent(record)
    assert control_store.get_agent("a1") == record


def test_the_stored_jwk_is_a_copy_of_the_one_given(control_store: ControlStore) -> None:
    jwk: dict[str, object] = {"kty": "OKP", "x": "abc"}
    control_store.put_agent(_agent("a1", public_jwk=jwk))
    jwk["x"] = "mallory"
    stored = control_store.get_agent("a1")
    assert stored is not None
    assert stored.public_jwk == {"kty": "OKP", "x": "abc"}


def test_a_jwk_that_is_not_json_is_refused_and_stores_nothing(
    control_store: ControlStore,
) -> None:
    version = control_store.control_version()
    with pytest.raises(TypeError):
        control_store.put_agent(_agent("a1", public_jwk={"kty": object()}))
    assert control_store.get_agent("a1") is None
    assert control_store.control_version() == version
    control_store.put_agent(_agent("a1"))
    assert control_store.get_agent("a1") == _agent("a1")


def test_agents_are_listed_oldest_first_then_by_id(control_store: ControlStore) -> None:
    for agent_id, created in (("b", 3.0), ("z", 1.0), ("c", 2.0), ("a", 1.0)):
        control_store.put_agent(_agent(agent_id, created))
    assert [a.agent_id for a in control_store.list_agents()] == ["a", "z", "c", "b"]


def test_a_duplicate_agent_id_is_refused_and_changes_nothing(
    control_store: ControlStore,
) -> None:
    control_store.put_agent(_agent("a1"))
    version = control_store.control_version()
    with pytest.raises(DuplicateKey):
        control_store.put_agent(_agent("a1", sponsor="user:mallory"))
    assert control_store.get_agent("a1") == _agent("a1")
    assert control_store.list_agents() == [_agent("a1")]
    assert control_store.control_version() == version


def test_disabling_an_agent_changes_it_only_when_it_differs(control_store: ControlStore) -> None:
    control_store.put_agent(_agent("a1"))
    assert control_store.set_agent_disabled("a1", True)
    disabled = control_store.get_agent("a1")
    assert disabled == _agent("a1", disabled=True)
    assert disabled is not None
    assert not disabled.is_active(now=2.0)
    assert not control_store.set_agent_disabled("a1", True)
    assert control_store.set_agent_disabled("a1", False)
    assert control_store.get_agent("a1") == _agent("a1")
    assert not control_store.set_agent_disabled("a1", False)
    assert not control_store.set_agent_disabled("missing", True)


def test_a_deleted_agent_is_gone(control_store: ControlStore) -> None:
    control_store.put_agent(_agent("a1"))
    control_store.put_agent(_agent("a2"))
    assert control_store.delete_agent("a1")
    assert control_store.get_agent("a1") is None
    assert control_store.list_agents() == [_agent("a2")]
    assert not control_store.delete_agent("a1")
    control_store.put_agent(_agent("a1", sponsor="user:dave"))  # the id may be reused
    assert control_store.get_agent("a1") == _agent("a1", sponsor="user:dave")


# --- RevocationStore --------------------------------------------------------------------------


def test_every_kind_of_revocation_reads_back_in_time_order(control_store: ControlStore) -> None:
    stored = [Revocation(kind, f"{kind}-1", at=100.0 - i, until=None if i % 2 else 500.0,
                         reason="lost laptop", by="user:secops")
              for i, kind in enumerate(RevocationKind)]
    for revocation in stored:
        control_store.revoke(revocation)
    assert control_store.revocations() == sorted(stored, key=lambda r: r.at)
    assert control_store.revocations()[0].kind is RevocationKind.KEY


def test_revocations_at_the_same_time_are_ordered_by_kind_then_subject(
    control_store: ControlStore,
) -> None:
    for kind, subject in (("user", "b"), ("agent", "z"), ("user", "a")):
        control_store.revoke(Revocation(RevocationKind(kind), subject, at=5.0))
    assert [(r.kind, r.subject) for r in control_store.revocations()] == [
        ("agent", "z"), ("user", "a"), ("user", "b")]


def test_revoking_again_replaces_the_revocation(control_store: ControlStore) -> None:
    control_store.revoke(Revocation(RevocationKind.USER, "alice", 10.0, None, "left", "hr"))
    later = Revocation(RevocationKind.USER, "alice", 20.0, 30.0, "suspended", "user:secops")
    control_store.revoke(later)
    assert control_store.revocations() == [later]


def test_the_same_subject_may_be_revoked_under_different_kinds(
    control_store: ControlStore,
) -> None:
    control_store.revoke(Revocation(RevocationKind.USER, "x", 1.0))
    control_store.revoke(Revocation(RevocationKind.AGENT, "x", 1.0))
    assert {r.kind for r in control_store.revocations()} == {"user", "agent"}


def test_unrevoking_lifts_only_that_revocation(control_store: ControlStore) -> None:
    control_store.revoke(Revocation(RevocationKind.USER, "alice", 1.0))
    control_store.revoke(Revocation(RevocationKind.AGENT, "alice", 1.0))
    assert control_store.unrevoke(RevocationKind.USER, "alice")
    assert control_store.revocations() == [Revocation(RevocationKind.AGENT, "alice", 1.0)]
    assert not control_store.unrevoke(RevocationKind.USER, "alice")
    assert not control_store.unrevoke(RevocationKind.TOKEN, "never")


def test_pruning_deletes_revocations_whose_until_has_passed(control_store: ControlStore) -> None:
    forever = Revocation(RevocationKind.USER, "alice", 1.0)
    spent = Revocation(RevocationKind.TOKEN, "jti-1", 1.0, until=50.0)
    ends_now = Revocation(RevocationKind.SESSION, "s-1", 2.0, until=100.0)
    live = Revocation(RevocationKind.TOKEN, "jti-2", 3.0, until=100.5)
    for revocation in (forever, spent, ends_now, live):
        control_store.revoke(revocation)
    assert control_store.prune_revocations(now=100.0) == 2
    assert control_store.revocations() == [forever, live]
    version = control_store.control_version()
    assert control_store.prune_revocations(now=100.0) == 0
    assert control_store.control_version() == version
    assert control_store.prune_revocations(now=1e12) == 1
    assert control_store.revocations() == [forever]


# --- TermsStore -------------------------------------------------------------------------------


def test_accepting_terms_again_keeps_the_first_acceptance(control_store: ControlStore) -> None:
    first = TermsAcceptance("user:alice", "chat", "2026-01", 10.0)
    control_store.accept_terms(first)
    version = control_store.control_version()
    control_store.accept_terms(dataclasses.replace(first, at=99.0))
    assert control_store.terms_acceptances() == [first]
    assert control_store.control_version() == version


def test_each_principal_app_and_version_is_its_own_acceptance(
    control_store: ControlStore,
) -> None:
    accepted = [
        TermsAcceptance("user:alice", "chat", "2026-02", 30.0),
        TermsAcceptance("user:alice", "chat", "2026-01", 10.0),
        TermsAcceptance("user:alice", "code", "2026-01", 10.0),
        TermsAcceptance("agent:a1", "chat", "2026-01", 10.0),
    ]
    for acceptance in accepted:
        control_store.accept_terms(acceptance)
    assert control_store.terms_acceptances() == [accepted[3], accepted[1], accepted[2],
                                                 accepted[0]]


# --- RiskStore --------------------------------------------------------------------------------


def test_no_risk_set_means_no_levels_and_no_history(control_store: ControlStore) -> None:
    assert control_store.risk_levels() == {}
    assert control_store.risk_history("user:alice") == []


def test_the_latest_risk_is_current_and_history_is_kept(control_store: ControlStore) -> None:
    records = [
        _risk("user:alice", RiskLevel.MINOR, 10.0, "odd hours"),
        _risk("user:bob", RiskLevel.ELEVATED, 11.0, "impossible travel"),
        _risk("user:alice", RiskLevel.ELEVATED, 20.0, "mass download"),
        _risk("user:alice", RiskLevel.NONE, 30.0, "cleared"),
    ]
    for record in records:
        control_store.set_risk(record)
    assert control_store.risk_levels() == {"user:alice": records[3], "user:bob": records[1]}
    assert control_store.risk_history("user:alice") == [records[0], records[2], records[3]]
    assert control_store.risk_history("user:bob") == [records[1]]


def test_a_backdated_risk_joins_the_history_but_is_not_current(
    control_store: ControlStore,
) -> None:
    current = _risk("user:alice", RiskLevel.MODERATE, 20.0)
    backdated = _risk("user:alice", RiskLevel.NONE, 5.0)
    control_store.set_risk(current)
    control_store.set_risk(backdated)
    assert control_store.risk_levels() == {"user:alice": current}
    assert control_store.risk_history("user:alice") == [backdated, current]


def test_of_two_risks_set_at_the_same_time_the_later_set_wins(
    control_store: ControlStore,
) -> None:
    first = _risk("user:alice", RiskLevel.ELEVATED, 20.0, "first")
    second = _risk("user:alice", RiskLevel.MINOR, 20.0, "second")
    control_store.set_risk(first)
    control_store.set_risk(second)
    assert control_store.risk_levels() == {"user:alice": second}
    assert control_store.risk_history("user:alice") == [first, second]


def test_setting_the_same_risk_twice_records_it_twice(control_store: ControlStore) -> None:
    record = _risk("user:alice", RiskLevel.MINOR, 10.0)
    control_store.set_risk(record)
    version = control_store.control_version()
    control_store.set_risk(record)
    assert control_store.risk_history("user:alice") == [record, record]
    assert control_store.control_version() != version


# --- GrantStore -------------------------------------------------------------------------------


def test_a_stored_grant_reads_back_equal(control_store: ControlStore) -> None:
    grant = _grant("g1")
    control_store.put_grant(grant)
    assert control_store.get_grant("g1") == grant
    assert control_store.get_grant("nope") is None
    decided = AccessGrant("g2", "agent:a1", "reader", "", 60.5, 11.0, GrantStatus.DENIED,
                          "user:carol", 12.0, None, "not on call")
    control_store.put_grant(decided)
    assert control_store.get_grant("g2") == decided


def test_grants_are_listed_oldest_request_first_then_by_id(control_store: ControlStore) -> None:
    for grant_id, at in (("g3", 30.0), ("g9", 10.0), ("g1", 10.0)):
        control_store.put_grant(_grant(grant_id, at))
    assert [g.grant_id for g in control_store.list_grants()] == ["g1", "g9", "g3"]


def test_a_duplicate_grant_id_is_refused_and_changes_nothing(
    control_store: ControlStore,
) -> None:
    control_store.put_grant(_grant("g1"))
    version = control_store.control_version()
    with pytest.raises(DuplicateKey):
        control_store.put_grant(dataclasses.replace(_grant("g1"), role="root"))
    assert control_store.list_grants() == [_grant("g1")]
    assert control_store.control_version() == version


def test_only_the_first_of_two_approvers_decides(control_store: ControlStore) -> None:
    grant = _grant("g1")
    control_store.put_grant(grant)
    approved = _approved(grant)
    denied = dataclasses.replace(grant, status=GrantStatus.DENIED, decided_by="user:dave",
                                 decided_at=21.0)
    assert control_store.update_grant(approved, expected_status=GrantStatus.PENDING)
    assert not control_store.update_grant(denied, expected_status=GrantStatus.PENDING)
    assert control_store.get_grant("g1") == approved
    stored = control_store.get_grant("g1")
    assert stored is not None
    assert stored.is_active(now=500.0)
    assert not stored.is_active(now=920.0)


def test_a_decided_grant_moves_on_from_its_status(control_store: ControlStore) -> None:
    grant = _grant("g1")
    control_store.put_grant(grant)
    approved = _approved(grant)
    assert control_store.update_grant(approved, GrantStatus.PENDING)
    cancelled = dataclasses.replace(approved, status=GrantStatus.CANCELLED, note="done early")
    assert control_store.update_grant(cancelled, GrantStatus.APPROVED)
    assert control_store.get_grant("g1") == cancelled
    assert not cancelled.is_active(now=100.0)


def test_updating_an_unknown_grant_is_refused(control_store: ControlStore) -> None:
    assert not control_store.update_grant(_approved(_grant("g1")), GrantStatus.PENDING)
    assert control_store.list_grants() == []


def test_an_update_may_not_change_the_request(control_store: ControlStore) -> None:
    control_store.put_grant(_grant("g1"))
    version = control_store.control_version()
    for changed in ({"role": "root"}, {"principal": "user:mallory"}, {"duration_s": 1e9},
                    {"reason": "x"}, {"requested_at": 1.0}):
        forged = dataclasses.replace(_approved(_grant("g1")), **changed)
        with pytest.raises(ValueError, match="request"):
            control_store.update_grant(forged, GrantStatus.PENDING)
    assert control_store.get_grant("g1") == _grant("g1")
    assert control_store.control_version() == version
    assert control_store.update_grant(_approved(_grant("g1")), GrantStatus.PENDING)
    assert control_store.get_grant("g1") == _approved(_grant("g1"))


def test_an_update_that_changes_nothing_succeeds_without_a_write(
    control_store: ControlStore,
) -> None:
    control_store.put_grant(_grant("g1"))
    version = control_store.control_version()
    assert control_store.update_grant(_grant("g1"), GrantStatus.PENDING)
    assert control_store.control_version() == version


def test_of_many_racing_approvers_exactly_one_decides(control_store: ControlStore) -> None:
    control_store.put_grant(_grant("g1"))
    version = control_store.control_version()
    decisions = [_approved(_grant("g1"), by=f"user:approver{i}", at=20.0 + i) for i in range(16)]
    won: list[AccessGrant] = []
    start = threading.Barrier(len(decisions))

    def decide(decision: AccessGrant) -> None:
        start.wait()
        if control_store.update_grant(decision, GrantStatus.PENDING):
            won.append(decision)

    threads = [threading.Thread(target=decide, args=(d,)) for d in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert control_store.get_grant("g1") == won[0]
    assert control_store.control_version() != version


# --- ControlState -----------------------------------------------------------------------------


def _writes() -> list[Callable[[ControlStore], object]]:
    grant = _grant("g1")
    return [
        lambda s: s.put_agent(_agent("a1")),
        lambda s: s.set_agent_disabled("a1", True),
        lambda s: s.delete_agent("a1"),
        lambda s: s.revoke(Revocation(RevocationKind.TOKEN, "jti", 1.0, until=5.0)),
        lambda s: s.revoke(Revocation(RevocationKind.TOKEN, "jti", 1.0, until=6.0)),
        lambda s: s.prune_revocations(now=10.0),
        lambda s: s.revoke(Revocation(RevocationKind.USER, "alice", 1.0)),
        lambda s: s.unrevoke(RevocationKind.USER, "alice"),
        lambda s: s.accept_terms(TermsAcceptance("user:alice", "chat", "1", 1.0)),
        lambda s: s.set_risk(_risk("user:alice", RiskLevel.MINOR, 1.0)),
        lambda s: s.put_grant(grant),
        lambda s: s.update_grant(_approved(grant), GrantStatus.PENDING),
    ]


def test_the_version_changes_on_each_write(control_store: ControlStore) -> None:
    seen = [control_store.control_version()]
    for write in _writes():
        write(control_store)
        seen.append(control_store.control_version())
    assert len(set(seen)) == len(seen)


def test_reads_and_writes_that_change_nothing_keep_the_version(
    control_store: ControlStore,
) -> None:
    for write in _writes():
        write(control_store)
    control_store.put_agent(_agent("a2"))
    control_store.revoke(Revocation(RevocationKind.USER, "bob", 1.0))
    version = control_store.control_version()
    control_store.get_agent("a2")
    control_store.list_agents()
    control_store.revocations()
    control_store.terms_acceptances()
    control_store.risk_levels()
    control_store.risk_history("user:alice")
    control_store.get_grant("g1")
    control_store.list_grants()
    assert not control_store.set_agent_disabled("a2", False)
    assert not control_store.set_agent_disabled("missing", True)
    assert not control_store.delete_agent("missing")
    control_store.revoke(Revocation(RevocationKind.USER, "bob", 1.0))
    assert not control_store.unrevoke(RevocationKind.USER, "nobody")
    assert control_store.prune_revocations(now=1e12) == 0
    control_store.accept_terms(TermsAcceptance("user:alice", "chat", "1", 2.0))
    assert not control_store.update_grant(_grant("g1"), GrantStatus.PENDING)
    assert not control_store.update_grant(_grant("missing"), GrantStatus.PENDING)
    assert control_store.control_version() == version

"""What only a database on disk can show: a transaction that fails half way leaves nothing,
two connections race fairly, state survives a reopen, an older database is upgraded, and a row
edited into nonsense reads as ``StoreUnavailable``. Faults are injected through the database
itself (a trigger, a raw UPDATE), never by patching the store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ztai.core.errors import StoreUnavailable
from ztai.core.model import PrincipalKind
from ztai.storage.model import (
    AccessGrant,
    AgentRecord,
    GrantStatus,
    KeyRecord,
    Revocation,
    RevocationKind,
    RiskLevel,
    RiskRecord,
    TermsAcceptance,
)
from ztai.storage.sqlite import SqliteControlStore, SqliteKeyStore

_AGENT = AgentRecord("a1", "user:alice", {"kty": "OKP", "x": "abc"}, frozenset({"m"}))
_GRANT = AccessGrant("g1", "user:bob", "admin", "incident", 900.0, 10.0)
_RISK = RiskRecord("user:alice", RiskLevel.ELEVATED, "travel", "user:secops", 5.0)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "control.db"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteControlStore]:
    with closing(SqliteControlStore(path)) as opened:
        yield opened


def _raw(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for statement in statements:
            conn.execute(statement)


def test_a_write_failing_after_its_first_statement_leaves_nothing(
    store: SqliteControlStore, path: Path,
) -> None:
    store.put_grant(_GRANT)
    version = store.control_version()
    _raw(path, "CREATE TRIGGER refuse_bump BEFORE UPDATE ON counters"
               " BEGIN SELECT RAISE(ABORT, 'injected'); END")
    failing: list[Callable[[], object]] = [
        lambda: store.put_agent(_AGENT),  # a trigger's refusal is not a duplicate id
        lambda: store.set_risk(_RISK),  # history and current level are two statements
        lambda: store.revoke(Revocation(RevocationKind.USER, "alice", 1.0)),
        lambda: store.accept_terms(TermsAcceptance("user:alice", "chat", "1", 1.0)),
        lambda: store.update_grant(
            AccessGrant("g1", "user:bob", "admin", "incident", 900.0, 10.0,
                        GrantStatus.APPROVED), GrantStatus.PENDING),
    ]
    for write in failing:
        with pytest.raises(StoreUnavailable, match="injected"):
            write()
    assert store.get_agent("a1") is None
    assert store.risk_levels() == {}
    assert store.risk_history("user:alice") == []
    assert store.revocations() == []
    assert store.terms_acceptances() == []
    assert store.get_grant("g1") == _GRANT
    assert store.control_version() == version
    _raw(path, "DROP TRIGGER refuse_bump")
    store.put_agent(_AGENT)
    store.set_risk(_RISK)
    assert store.get_agent("a1") == _AGENT
    assert store.risk_levels() == {"user:alice": _RISK}
    assert store.control_version() == version + 2


def test_approvers_on_separate_connections_cannot_both_decide(path: Path) -> None:
    with closing(SqliteControlStore(path)) as setup:
        setup.put_grant(_GRANT)
    stores = [SqliteControlStore(path) for _ in range(6)]
    won: list[int] = []
    start = threading.Barrier(len(stores))

    def decide(index: int) -> None:
        decision = AccessGrant("g1", "user:bob", "admin", "incident", 900.0, 10.0,
                               GrantStatus.APPROVED, f"user:approver{index}", 20.0, 920.0)
        start.wait()
        if stores[index].update_grant(decision, GrantStatus.PENDING):
            won.append(index)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert len(won) == 1
    with closing(SqliteControlStore(path)) as reopened:
        stored = reopened.get_grant("g1")
    assert stored is not None
    assert stored.decided_by == f"user:approver{won[0]}"


def test_control_state_survives_a_reopen(path: Path) -> None:
    with closing(SqliteControlStore(path)) as first:
        first.put_agent(_AGENT)
        first.set_risk(_RISK)
        first.put_grant(_GRANT)
        version = first.control_version()
    with closing(SqliteControlStore(path)) as second:
        assert second.list_agents() == [_AGENT]
        assert second.risk_levels() == {"user:alice": _RISK}
        assert second.list_grants() == [_GRANT]
        assert second.control_version() == version


# What the first migration made; every later one's tables are dropped to go back to version 1.
_VERSION_1_TABLES = {"api_keys", "counters", "audit_log", "audit_checkpoints", "schema_version"}


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}


def test_a_database_from_before_control_state_is_upgraded_in_place(path: Path) -> None:
    key = KeyRecord("k1", "h", "svc", PrincipalKind.SERVICE)
    with closing(SqliteKeyStore(path)) as keys:
        keys.put_key(key)
    _raw(path,
         *(f"DROP TABLE {table}" for table in _tables(path) - _VERSION_1_TABLES),
         "DELETE FROM counters WHERE name = 'control_version'",
         "DELETE FROM schema_version WHERE version > 1")
    with closing(SqliteControlStore(path)) as store:
        assert store.control_version() == 0
        store.put_agent(_AGENT)
        assert store.list_agents() == [_AGENT]
    with closing(SqliteKeyStore(path)) as keys:
        assert keys.list_keys() == [key]


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE agents SET public_jwk_json = 'not json'",
        "UPDATE agents SET public_jwk_json = '[1, 2]'",
        "UPDATE agents SET allowed_models_json = '[1]'",
        "UPDATE agents SET created_at = 'yesterday'",
    ],
)
def test_an_agent_row_edited_into_nonsense_is_unavailable(
    store: SqliteControlStore, path: Path, edit: str,
) -> None:
    store.put_agent(_AGENT)
    _raw(path, edit)
    with pytest.raises(StoreUnavailable, match="decode"):
        store.get_agent("a1")
    with pytest.raises(StoreUnavailable, match="decode"):
        store.list_agents()


def test_a_grant_with_an_unknown_status_is_unavailable_even_to_update(
    store: SqliteControlStore, path: Path,
) -> None:
    store.put_grant(_GRANT)
    _raw(path, "UPDATE access_grants SET status = 'approved-ish'")
    with pytest.raises(StoreUnavailable, match="decode"):
        store.list_grants()
    with pytest.raises(StoreUnavailable, match="decode"):
        store.update_grant(_GRANT, GrantStatus.PENDING)


def test_an_unknown_risk_level_or_revocation_kind_is_unavailable(
    store: SqliteControlStore, path: Path,
) -> None:
    store.set_risk(_RISK)
    store.revoke(Revocation(RevocationKind.USER, "alice", 1.0))
    _raw(path, "UPDATE risk_current SET level = 'severe'", "UPDATE revocations SET kind = 'x'")
    with pytest.raises(StoreUnavailable, match="decode"):
        store.risk_levels()
    with pytest.raises(StoreUnavailable, match="decode"):
        store.revocations()


def test_a_closed_store_is_unavailable(path: Path) -> None:
    store = SqliteControlStore(path)
    store.close()
    with pytest.raises(StoreUnavailable):
        store.control_version()
    with pytest.raises(StoreUnavailable):
        store.put_agent(_AGENT)

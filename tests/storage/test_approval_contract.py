"""The contract every ApprovalStore backend keeps (held calls and their compare-and-set), written
against the interface only; then what only the SQLite file can show."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ztai.core.errors import StoreUnavailable
from ztai.storage.interface import ApprovalStore, DuplicateKey
from ztai.storage.model import HeldCall, HeldStatus
from ztai.storage.sqlite import SqliteApprovalStore, SqliteControlStore


def _held(call_id: str, created_at: float = 10.0, **changes: object) -> HeldCall:
    call = HeldCall(call_id, "agent:mailbot", ("user:alice", "agent:mailbot"), "call_tool",
                    "mail/send_email",
                    {"tool": "send_email", "server": "mail", "reasons": "external recipient",
                     "destinations": "évé@outside.example"},
                    created_at, created_at + 120.0)
    return dataclasses.replace(call, **changes)  # type: ignore[arg-type]  # test factory


def _decided(call: HeldCall, status: HeldStatus, by: str = "user:carol") -> HeldCall:
    return dataclasses.replace(call, status=status, decided_by=by, decided_at=20.0,
                               reason="looked at it")


def test_a_held_call_reads_back_equal(approval_store: ApprovalStore) -> None:
    call = _held("h1")
    approval_store.put_held(call)
    stored = approval_store.get_held("h1")
    assert stored == call
    assert stored is not None
    assert isinstance(stored.chain, tuple)
    assert stored.status is HeldStatus.PENDING
    assert approval_store.get_held("nope") is None


def test_the_stored_summary_is_a_copy_of_the_one_given(approval_store: ApprovalStore) -> None:
    summary = {"tool": "send_email"}
    approval_store.put_held(_held("h1", summary=summary))
    summary["tool"] = "changed"
    stored = approval_store.get_held("h1")
    assert stored is not None
    assert stored.summary == {"tool": "send_email"}


def test_a_duplicate_id_is_refused_and_changes_nothing(approval_store: ApprovalStore) -> None:
    approval_store.put_held(_held("h1"))
    with pytest.raises(DuplicateKey):
        approval_store.put_held(_held("h1", resource="other/tool"))
    assert approval_store.list_held() == [_held("h1")]


def test_held_calls_are_listed_oldest_first_then_by_id_and_by_status(
        approval_store: ApprovalStore) -> None:
    for call in (_held("h3", 30.0), _held("h2", 10.0), _held("h1", 10.0)):
        approval_store.put_held(call)
    assert [c.id for c in approval_store.list_held()] == ["h1", "h2", "h3"]
    assert approval_store.update_held(_decided(_held("h2", 10.0), HeldStatus.DENIED),
                                      HeldStatus.PENDING)
    assert [c.id for c in approval_store.list_held(HeldStatus.PENDING)] == ["h1", "h3"]
    assert [c.id for c in approval_store.list_held(HeldStatus.DENIED)] == ["h2"]
    assert approval_store.list_held(HeldStatus.EXPIRED) == []


def test_only_the_first_of_two_deciders_decides(approval_store: ApprovalStore) -> None:
    call = _held("h1")
    approval_store.put_held(call)
    approved = _decided(call, HeldStatus.APPROVED)
    assert approval_store.update_held(approved, HeldStatus.PENDING)
    assert not approval_store.update_held(_decided(call, HeldStatus.DENIED, "user:dan"),
                                          HeldStatus.PENDING)
    assert approval_store.get_held("h1") == approved


def test_every_decision_field_is_written(approval_store: ApprovalStore) -> None:
    call = _held("h1")
    approval_store.put_held(call)
    noted = dataclasses.replace(call, notify_error="status 500")
    assert approval_store.update_held(noted, HeldStatus.PENDING)
    expired = dataclasses.replace(noted, status=HeldStatus.EXPIRED, decided_at=130.0,
                                  reason="timed out")
    assert approval_store.update_held(expired, HeldStatus.PENDING)
    assert approval_store.get_held("h1") == expired


def test_updating_an_unknown_call_is_refused(approval_store: ApprovalStore) -> None:
    assert not approval_store.update_held(_held("h1"), HeldStatus.PENDING)
    assert approval_store.list_held() == []


@pytest.mark.parametrize("change", [
    {"principal": "agent:other"}, {"chain": ("agent:mailbot",)}, {"action": "list_tools"},
    {"resource": "mail/delete"}, {"summary": {"tool": "x"}}, {"created_at": 11.0},
    {"expires_at": 500.0},
])
def test_an_update_may_not_change_the_call(approval_store: ApprovalStore,
                                           change: dict[str, Any]) -> None:
    call = _held("h1")
    approval_store.put_held(call)
    changed = dataclasses.replace(_decided(call, HeldStatus.APPROVED), **change)
    with pytest.raises(ValueError, match="cannot change"):
        approval_store.update_held(changed, HeldStatus.PENDING)
    assert approval_store.get_held("h1") == call


def test_of_many_racing_deciders_exactly_one_decides(approval_store: ApprovalStore) -> None:
    call = _held("h1")
    approval_store.put_held(call)
    start, wins = threading.Barrier(8), []

    def decide(n: int) -> None:
        start.wait()
        if approval_store.update_held(_decided(call, HeldStatus.APPROVED, f"user:{n}"),
                                      HeldStatus.PENDING):
            wins.append(n)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    stored = approval_store.get_held("h1")
    assert stored is not None
    assert stored.decided_by == f"user:{wins[0]}"


def test_a_held_call_refuses_an_expiry_before_its_creation() -> None:
    with pytest.raises(ValueError, match="expires_at"):
        _held("h1", expires_at=5.0)
    with pytest.raises(ValueError, match="expires_at"):
        _held("h1", expires_at=float("inf"))
    with pytest.raises(ValueError, match="maybe"):
        _held("h1", status="maybe")


# --- SQLite only --------------------------------------------------------------------------------


def test_held_calls_never_change_the_control_version(tmp_path: Path) -> None:
    path = tmp_path / "ztai.db"
    with closing(SqliteControlStore(path)) as control, closing(SqliteApprovalStore(path)) as held:
        before = control.control_version()
        held.put_held(_held("h1"))
        held.update_held(_decided(_held("h1"), HeldStatus.DENIED), HeldStatus.PENDING)
        assert control.control_version() == before


def test_two_connections_see_each_others_decisions(tmp_path: Path) -> None:
    path = tmp_path / "ztai.db"
    with closing(SqliteApprovalStore(path)) as one, closing(SqliteApprovalStore(path)) as two:
        one.put_held(_held("h1"))
        assert two.update_held(_decided(_held("h1"), HeldStatus.APPROVED), HeldStatus.PENDING)
        assert not one.update_held(_decided(_held("h1"), HeldStatus.DENIED), HeldStatus.PENDING)
        stored = one.get_held("h1")
        assert stored is not None
        assert stored.status is HeldStatus.APPROVED


@pytest.mark.parametrize("edit", [
    "UPDATE held_calls SET summary_json = 'not json'",
    "UPDATE held_calls SET summary_json = '{\"n\": 1}'",
    "UPDATE held_calls SET chain_json = '[1]'",
    "UPDATE held_calls SET status = 'approved-ish'",
])
def test_a_row_edited_into_nonsense_is_unavailable(tmp_path: Path, edit: str) -> None:
    path = tmp_path / "ztai.db"
    with closing(SqliteApprovalStore(path)) as store:
        store.put_held(_held("h1"))
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute(edit)
        with pytest.raises(StoreUnavailable, match="decode"):
            store.get_held("h1")
        with pytest.raises(StoreUnavailable, match="decode"):
            store.update_held(_decided(_held("h1"), HeldStatus.DENIED), HeldStatus.PENDING)

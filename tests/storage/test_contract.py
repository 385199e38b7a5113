"""The contract every KeyStore and AuditStore backend keeps, written against the interfaces
only (backends come from the fixtures in conftest.py)."""

from __future__ import annotations

import dataclasses

import pytest

from ztai.core.errors import StoreUnavailable
from ztai.core.model import PrincipalKind
from ztai.storage.interface import AuditStore, DuplicateKey, KeyStore
from ztai.storage.model import ChainedEntry, Checkpoint, KeyRecord


def _key(key_id: str, created_at: float = 1.0, **changes: object) -> KeyRecord:
    record = KeyRecord(
        key_id=key_id,
        secret_hash="sha256:" + "ab" * 32,
        principal="alice",
        kind=PrincipalKind.USER,
        groups=frozenset({"eng", "sec"}),
        attributes={"team": "platform", "région": "eu"},
        created_at=created_at,
        expires_at=created_at + 3600.0,
        description="laptop key",
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]  # test factory


def _entries(first: int, count: int) -> list[ChainedEntry]:
    return [ChainedEntry(seq, b'{"n":%d}' % seq, f"{seq - 1:064x}", f"{seq:064x}")
            for seq in range(first, first + count)]


def _checkpoint(seq: int) -> Checkpoint:
    return Checkpoint(seq, f"{seq:064x}", 1_750_000_000.5, "kid", "sig" * 10)


# --- KeyStore -------------------------------------------------------------------------------


def test_a_stored_key_reads_back_equal(key_store: KeyStore) -> None:
    record = _key("k1")
    key_store.put_key(record)
    assert key_store.get_key("k1") == record
    assert key_store.get_key("nope") is None


def test_a_key_without_optional_fields_reads_back_equal(key_store: KeyStore) -> None:
    record = KeyRecord("k1", "h", "svc", PrincipalKind.SERVICE)
    key_store.put_key(record)
    assert key_store.get_key("k1") == record


def test_keys_are_listed_oldest_first(key_store: KeyStore) -> None:
    for key_id, created in (("b", 3.0), ("a", 1.0), ("c", 2.0)):
        key_store.put_key(_key(key_id, created))
    assert [k.key_id for k in key_store.list_keys()] == ["a", "c", "b"]


def test_an_empty_store_lists_nothing(key_store: KeyStore) -> None:
    assert key_store.list_keys() == []


def test_a_duplicate_key_id_is_refused_and_changes_nothing(key_store: KeyStore) -> None:
    key_store.put_key(_key("k1"))
    version = key_store.keys_version()
    with pytest.raises(DuplicateKey):
        key_store.put_key(_key("k1", principal="mallory"))
    assert key_store.get_key("k1") == _key("k1")
    assert key_store.keys_version() == version


def test_revoking_marks_the_key_once(key_store: KeyStore) -> None:
    key_store.put_key(_key("k1"))
    assert key_store.revoke_key("k1", at=50.0)
    revoked = key_store.get_key("k1")
    assert revoked is not None
    assert revoked.revoked_at == 50.0
    assert not revoked.is_active(now=10.0)
    assert not key_store.revoke_key("k1", at=60.0)
    assert key_store.get_key("k1") == revoked
    assert not key_store.revoke_key("unknown", at=60.0)


def test_the_version_changes_on_each_write_and_only_then(key_store: KeyStore) -> None:
    seen = [key_store.keys_version()]
    key_store.put_key(_key("k1"))
    seen.append(key_store.keys_version())
    key_store.put_key(_key("k2"))
    seen.append(key_store.keys_version())
    key_store.revoke_key("k1", at=5.0)
    seen.append(key_store.keys_version())
    assert len(set(seen)) == len(seen)
    key_store.get_key("k1")
    key_store.list_keys()
    key_store.revoke_key("k1", at=6.0)  # a no-op is not a write
    key_store.revoke_key("missing", at=6.0)
    assert key_store.keys_version() == seen[-1]


# --- AuditStore -----------------------------------------------------------------------------


def test_an_empty_log_has_no_head_entries_or_checkpoints(audit_store: AuditStore) -> None:
    assert audit_store.head() is None
    assert list(audit_store.read()) == []
    assert audit_store.checkpoints() == []


def test_appended_entries_read_back_in_order(audit_store: AuditStore) -> None:
    audit_store.append(_entries(1, 3), None)
    audit_store.append(_entries(4, 2), _checkpoint(5))
    assert list(audit_store.read()) == _entries(1, 5)
    assert audit_store.head() == _entries(5, 1)[0]
    assert audit_store.checkpoints() == [_checkpoint(5)]


def test_read_pages_by_after_seq_and_limit(audit_store: AuditStore) -> None:
    audit_store.append(_entries(1, 2500), None)
    assert [e.seq for e in audit_store.read(after_seq=999, limit=1002)] == list(
        range(1000, 2002))
    assert [e.seq for e in audit_store.read(after_seq=2498)] == [2499, 2500]
    assert list(audit_store.read(after_seq=2500)) == []
    assert list(audit_store.read(limit=0)) == []
    assert sum(1 for _ in audit_store.read()) == 2500


def test_a_checkpoint_may_be_appended_alone(audit_store: AuditStore) -> None:
    audit_store.append(_entries(1, 2), _checkpoint(1))
    audit_store.append([], _checkpoint(2))
    assert [cp.seq for cp in audit_store.checkpoints()] == [1, 2]
    assert audit_store.head() == _entries(2, 1)[0]


def test_an_append_reusing_a_seq_is_refused_whole(audit_store: AuditStore) -> None:
    audit_store.append(_entries(1, 3), _checkpoint(3))
    with pytest.raises(StoreUnavailable):
        audit_store.append(_entries(3, 2), None)
    with pytest.raises(StoreUnavailable):
        audit_store.append(_entries(4, 1), _checkpoint(3))
    assert list(audit_store.read()) == _entries(1, 3)
    assert audit_store.checkpoints() == [_checkpoint(3)]
    audit_store.append(_entries(4, 1), _checkpoint(4))
    assert audit_store.head() == _entries(4, 1)[0]


def test_payload_bytes_are_kept_exactly(audit_store: AuditStore) -> None:
    raw = bytes(range(256))
    audit_store.append([ChainedEntry(1, raw, "0" * 64, "1" * 64)], None)
    (entry,) = audit_store.read()
    assert entry.payload == raw
    assert isinstance(entry.payload, bytes)

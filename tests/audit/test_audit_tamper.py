"""Tampering with a real SQLite audit log, the way an attacker with file access would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ztai.audit.anchor import read_anchors
from ztai.audit.chain import entry_hash
from ztai.audit.committer import WriterOptions
from ztai.audit.reader import verify_store
from ztai.audit.signing import CheckpointSigner
from ztai.audit.verify import VerifyReport
from ztai.audit.writer import AuditWriter
from ztai.core.clock import FixedClock
from ztai.storage.model import Checkpoint
from ztai.storage.sqlite import SqliteAuditStore

from .support import make_event

EVENTS = 50  # checkpoints at 10, 20, 30, 40, 50


@pytest.fixture
def anchor_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.anchor.jsonl"


@pytest.fixture
def log(db_path: Path, signer: CheckpointSigner, anchor_path: Path) -> Path:
    store = SqliteAuditStore(db_path)
    options = WriterOptions(checkpoint_every=10, anchor_path=anchor_path)
    writer = AuditWriter(store, signer, FixedClock(), options)
    writer.start()
    for i in range(EVENTS):
        writer.record_sync(make_event(i))
    writer.close()
    store.close()
    return db_path


def _sql(db: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        for sql, params in statements:
            conn.execute(sql, params)


def _row(db: Path, seq: int) -> tuple[bytes, str, str]:
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT payload, prev_hash, hash FROM audit_log WHERE seq = ?",
                           (seq,)).fetchone()
    return bytes(row[0]), row[1], row[2]


def _verify(db: Path, signer: CheckpointSigner, anchors: Iterable[Checkpoint] = ()
            ) -> VerifyReport:
    with closing(SqliteAuditStore(db)) as store:
        return verify_store(store, signer.public_key, anchors)


def _flagged(report: VerifyReport) -> dict[int, str]:
    assert not report.ok
    return {p.seq: p.message for p in report.problems}


def test_an_untouched_log_verifies(log: Path, signer: CheckpointSigner,
                                   anchor_path: Path) -> None:
    report = _verify(log, signer, read_anchors(anchor_path))
    assert report.ok, report.problems
    assert (report.count, report.last_seq, report.unanchored) == (EVENTS, EVENTS, 0)
    assert report.checkpoints_verified == 5
    assert [cp.seq for cp in read_anchors(anchor_path)] == [10, 20, 30, 40, 50]


def test_an_edited_payload_is_detected(log: Path, signer: CheckpointSigner) -> None:
    payload = _row(log, 7)[0].replace(b'"status":200', b'"status":403')
    _sql(log, ("UPDATE audit_log SET payload = ? WHERE seq = 7", (payload,)))
    assert "edited" in _flagged(_verify(log, signer))[7]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(log: Path,
                                                             signer: CheckpointSigner) -> None:
    payload, prev, _ = _row(log, 7)
    payload = payload.replace(b"alice", b"mallory")
    _sql(log, ("UPDATE audit_log SET payload = ?, hash = ? WHERE seq = 7",
               (payload, entry_hash(7, prev, payload))))
    assert "link" in _flagged(_verify(log, signer))[8]


def test_an_edited_hash_is_detected(log: Path, signer: CheckpointSigner) -> None:
    _sql(log, ("UPDATE audit_log SET hash = ? WHERE seq = 7", ("ab" * 32,)))
    assert 7 in _flagged(_verify(log, signer))


def test_a_deleted_entry_is_detected(log: Path, signer: CheckpointSigner) -> None:
    _sql(log, ("DELETE FROM audit_log WHERE seq = 7", ()))
    assert "missing" in _flagged(_verify(log, signer))[8]


def test_an_inserted_entry_is_detected(log: Path, signer: CheckpointSigner) -> None:
    prev_hash = _row(log, 20)[2]
    forged = b'{"forged":true}'
    _sql(log,
         ("UPDATE audit_log SET seq = -seq WHERE seq > 20", ()),
         ("UPDATE audit_log SET seq = 1 - seq WHERE seq < 0", ()),
         ("INSERT INTO audit_log VALUES (21, ?, ?, ?)",
          (forged, prev_hash, entry_hash(21, prev_hash, forged))))
    problems = _flagged(_verify(log, signer))
    assert 21 not in problems  # the forged entry itself is well formed...
    assert 22 in problems  # ...but what follows it no longer fits


def test_swapped_entries_are_detected(log: Path, signer: CheckpointSigner) -> None:
    _sql(log,
         ("UPDATE audit_log SET seq = -1 WHERE seq = 12", ()),
         ("UPDATE audit_log SET seq = 12 WHERE seq = 13", ()),
         ("UPDATE audit_log SET seq = 13 WHERE seq = -1", ()))
    assert {12, 13} <= set(_flagged(_verify(log, signer)))


def test_a_truncated_tail_is_detected_by_its_checkpoints(log: Path,
                                                         signer: CheckpointSigner) -> None:
    _sql(log, ("DELETE FROM audit_log WHERE seq > 35", ()))
    problems = _flagged(_verify(log, signer))
    assert "truncated" in problems[40]
    assert "truncated" in problems[50]


def test_a_tail_truncated_with_its_checkpoints_is_detected_by_the_anchor(
        log: Path, signer: CheckpointSigner, anchor_path: Path) -> None:
    _sql(log, ("DELETE FROM audit_log WHERE seq > 35", ()),
         ("DELETE FROM audit_checkpoints WHERE seq > 35", ()))
    without_anchor = _verify(log, signer)
    assert without_anchor.ok  # the database alone cannot tell...
    assert without_anchor.unanchored == 5  # ...but it says how much is unprotected
    assert "truncated" in _flagged(_verify(log, signer, read_anchors(anchor_path)))[50]


def test_a_rewritten_tail_is_detected_by_a_checkpoint(log: Path,
                                                      signer: CheckpointSigner) -> None:
    prev = _row(log, 14)[2]
    for seq in range(15, EVENTS + 1):
        payload = _row(log, seq)[0].replace(b"alice", b"mallory")
        new_hash = entry_hash(seq, prev, payload)
        _sql(log, ("UPDATE audit_log SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                   (payload, prev, new_hash, seq)))
        prev = new_hash
    assert "checkpoint" in _flagged(_verify(log, signer))[20]


def test_a_forged_checkpoint_is_detected(log: Path, signer: CheckpointSigner) -> None:
    mallory = CheckpointSigner(Ed25519PrivateKey.generate())
    fake = mallory.sign(25, _row(log, 25)[2], 0.0)
    _sql(log,
         ("UPDATE audit_checkpoints SET signature = ? WHERE seq = 20", ("00" * 64,)),
         ("INSERT INTO audit_checkpoints VALUES (?,?,?,?,?)",
          (fake.seq, fake.hash, fake.time, signer.key_id, fake.signature)))
    problems = _flagged(_verify(log, signer))
    assert "signature" in problems[20]
    assert "signature" in problems[25]


def test_an_entry_appended_after_the_last_checkpoint_is_reported_unanchored(
        log: Path, signer: CheckpointSigner) -> None:
    prev = _row(log, EVENTS)[2]
    forged = b'{"forged":true}'
    seq = EVENTS + 1
    _sql(log, ("INSERT INTO audit_log VALUES (?, ?, ?, ?)",
               (seq, forged, prev, entry_hash(seq, prev, forged))))
    report = _verify(log, signer)
    assert report.ok  # the known limit of any hash chain: the unsigned tail
    assert report.unanchored == 1

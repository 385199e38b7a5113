"""Reading a stored log: tail, JSON-lines export, and the anchor file."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from ztai.audit.anchor import append_anchor, read_anchors
from ztai.audit.canonical import canonical_json, event_to_dict
from ztai.audit.chain import entry_hash, link
from ztai.audit.reader import entry_record, export_jsonl, tail
from ztai.audit.signing import CheckpointSigner
from ztai.audit.writer import AuditWriter
from ztai.core.clock import FixedClock
from ztai.storage.memory import MemoryAuditStore
from ztai.storage.sqlite import SqliteAuditStore

from .support import make_event


def _filled(store: MemoryAuditStore | SqliteAuditStore, n: int) -> None:
    writer = AuditWriter(store, clock=FixedClock())
    writer.start()
    for i in range(n):
        writer.record_sync(make_event(i))
    writer.close()


def test_tail_returns_the_last_entries_oldest_first() -> None:
    store = MemoryAuditStore()
    _filled(store, 5)
    records = tail(store, 2)
    assert [r["seq"] for r in records] == [4, 5]
    assert records[-1]["event"] == event_to_dict(make_event(4))
    assert tail(store, 0) == []
    assert len(tail(store, 100)) == 5
    assert tail(MemoryAuditStore(), 3) == []


def test_export_writes_one_verifiable_line_per_entry(sqlite_store: SqliteAuditStore) -> None:
    _filled(sqlite_store, 1500)  # more than one page of the SQLite reader
    out = io.BytesIO()
    assert export_jsonl(sqlite_store, out) == 1500
    lines = out.getvalue().splitlines()
    prev = "0" * 64
    for seq, line in enumerate(lines, start=1):
        record = orjson.loads(line)
        assert (record["seq"], record["prev_hash"]) == (seq, prev)
        assert record["hash"] == entry_hash(seq, prev, canonical_json(record["event"]))
        prev = record["hash"]
    after = io.BytesIO()
    assert export_jsonl(sqlite_store, after, after_seq=1498) == 2
    assert after.getvalue().splitlines() == lines[-2:]


def test_a_payload_that_is_not_json_is_exported_as_text() -> None:
    (entry,) = link(None, [b"\xffnot json"])
    record = entry_record(entry)
    assert record["event"] is None
    assert record["invalid_payload"].endswith("not json")


def test_anchors_round_trip_and_a_torn_last_line_is_ignored(tmp_path: Path,
                                                            signer: CheckpointSigner) -> None:
    path = tmp_path / "anchor.jsonl"
    checkpoints = [signer.sign(seq, "ab" * 32, 1_750_000_000.25) for seq in (10, 20)]
    for cp in checkpoints:
        append_anchor(path, cp)
    with path.open("ab") as file:
        file.write(b'{"seq":30,"ha')
    assert read_anchors(path) == checkpoints


@pytest.mark.parametrize("line", [b"nonsense", b"{}", b'{"seq":"1","hash":"h","time":1,'
                                  b'"key_id":"k","signature":"s"}', b"[1]"])
def test_a_malformed_anchor_line_is_refused(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "anchor.jsonl"
    path.write_bytes(line + b"\n")
    with pytest.raises(ValueError, match="anchor line 1"):
        read_anchors(path)


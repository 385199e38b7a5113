"""``audit.fsync: false`` trades power-loss durability for latency; commits still reach the
database file and survive the process."""

from __future__ import annotations

from pathlib import Path

from ztai.storage.model import ChainedEntry
from ztai.storage.sqlite import SqliteAuditStore


def test_a_store_without_fsync_still_commits(tmp_path: Path) -> None:
    writer = SqliteAuditStore(tmp_path / "a.db", fsync=False)
    writer.append([ChainedEntry(1, b"{}", "0" * 64, "1" * 64)], None)
    reader = SqliteAuditStore(tmp_path / "a.db")
    assert [e.seq for e in reader.read()] == [1]
    writer.close()
    reader.close()

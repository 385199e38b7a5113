"""Two writers on one database (the server and a CLI command next to it) keep one chain: the
one that loses a seq race reads the head again and links after the winner."""

from __future__ import annotations

from pathlib import Path

from tests.audit.support import make_event
from ztai.audit.reader import verify_store
from ztai.audit.signing import CheckpointSigner
from ztai.audit.writer import AuditWriter
from ztai.storage.sqlite import SqliteAuditStore


def test_interleaved_writers_keep_one_verifiable_chain(db_path: Path,
                                                       signer: CheckpointSigner) -> None:
    server = AuditWriter(SqliteAuditStore(db_path), signer)
    cli = AuditWriter(SqliteAuditStore(db_path), signer)
    server.start()
    cli.start()  # both read the same head
    seqs = []
    for i in range(20):
        writer = server if i % 3 else cli
        seqs.append(writer.record_sync(make_event(i)))
    server.close()
    cli.close()
    assert sorted(seqs) == list(range(1, 21))
    report = verify_store(SqliteAuditStore(db_path), signer.public_key)
    assert report.ok, report.problems
    assert report.count == 20

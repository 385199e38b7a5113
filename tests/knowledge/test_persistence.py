"""The index survives restarts: every change is journaled before it applies, a reopened index
(or one compacted into a new snapshot) answers exactly as before, a reader in another process
catches up on ``refresh``, and damage is refused instead of guessed around."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztai.knowledge.index import KnowledgeIndex
from ztai.knowledge.interface import IndexCorrupt, IndexLocked, KnowledgeError

from .support import doc, reader

EVERYONE = reader("everyone", "group:obsidian", "user:olga")


def populate(index: KnowledgeIndex) -> None:
    index.upsert([doc(f"d{n}", f"obsidian battery note number{n} " * (1 + n % 5),
                      "group:obsidian" if n % 3 else "everyone", owner=f"user:u{n % 7}",
                      label=("General", "Confidential", None)[n % 3]) for n in range(60)])
    index.set_acl("d4", ["user:olga"], None)
    index.delete(["d5", "d6"])
    index.upsert([doc("d7", "rewritten obsidian text", "everyone")])


def answers(index: KnowledgeIndex) -> list[object]:
    return [(h.citation, round(h.score, 6), h.label)
            for who in (EVERYONE, reader("user:olga"), reader("everyone"))
            for h in index.search("obsidian battery number4 rewritten", who, k=20)]


def test_reopen_and_compact_answer_as_before(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        populate(index)
        before, records = answers(index), index.records()
    with KnowledgeIndex.open(tmp_path / "i") as reopened:
        assert answers(reopened) == before
        assert reopened.records() == records
    with KnowledgeIndex.open(tmp_path / "i", writable=True) as writer:
        writer.compact()
        assert writer.stats().generation == 1
        assert writer.stats().unmerged_chunks == 0
        assert answers(writer) == before
    assert sorted(p.name for p in (tmp_path / "i").iterdir()) == [
        "CURRENT", "LOCK", "journal-000001.jsonl", "snap-000001"]
    with KnowledgeIndex.open(tmp_path / "i") as compacted:
        assert answers(compacted) == before
        assert compacted.records() == records


def test_a_reader_catches_up_with_a_writer(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as writer, \
            KnowledgeIndex.open(tmp_path / "i") as gateway:
        assert gateway.refresh() is False
        writer.upsert([doc("plan", "obsidian plan", "group:obsidian")])
        assert gateway.search("obsidian", EVERYONE) == []  # not yet refreshed
        assert gateway.refresh() is True
        assert [h.citation.document for h in gateway.search("obsidian", EVERYONE)] == ["plan"]
        writer.set_acl("plan", ["user:nobody"], None)
        writer.compact()
        assert gateway.refresh() is True
        assert gateway.search("obsidian", EVERYONE) == []
        assert gateway.stats().generation == 1


def test_one_writer_at_a_time_and_readers_do_not_write(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i"):
        with pytest.raises(IndexLocked):
            KnowledgeIndex.open(tmp_path / "i", writable=True)
        with KnowledgeIndex.open(tmp_path / "i") as reader_only, \
                pytest.raises(KnowledgeError, match="read-only"):
            reader_only.upsert([doc("x", "text", "everyone")])
    with pytest.raises(KnowledgeError, match="already holds"):
        KnowledgeIndex.create(tmp_path / "i")


def test_a_write_cut_short_is_dropped_by_the_next_writer(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("kept", "obsidian kept", "everyone")])
    journal = tmp_path / "i" / "journal-000000.jsonl"
    intact = journal.stat().st_size
    with journal.open("ab") as handle:
        handle.write(b'1234abcd {"op": "delete", "id": "ke')  # a crash mid-write
    with KnowledgeIndex.open(tmp_path / "i") as reader_only:  # readers ignore the tail
        assert len(reader_only.search("obsidian", EVERYONE)) == 1
    with KnowledgeIndex.open(tmp_path / "i", writable=True) as writer:
        assert journal.stat().st_size == intact
        writer.upsert([doc("more", "obsidian more", "everyone")])
    with KnowledgeIndex.open(tmp_path / "i") as reopened:
        assert len(reopened.search("obsidian", EVERYONE)) == 2


@pytest.mark.parametrize("damage", [
    lambda data: data.replace(b'"kept"', b'"kEpt"', 1),  # CRC mismatch
    lambda data: b"zzzzzzzz {}\n" + data,
    lambda data: data + b'%08x {"op": "explode"}\n' % __import__("zlib").crc32(
        b'{"op": "explode"}'),
])
def test_a_damaged_journal_is_refused(tmp_path: Path, damage: object) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("kept", "obsidian kept", "everyone")])
    journal = tmp_path / "i" / "journal-000000.jsonl"
    journal.write_bytes(damage(journal.read_bytes()))  # type: ignore[operator]
    with pytest.raises(IndexCorrupt):
        KnowledgeIndex.open(tmp_path / "i")


def test_damaged_snapshots_and_foreign_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexCorrupt, match="not a knowledge index"):
        KnowledgeIndex.open(tmp_path)
    with KnowledgeIndex.build(tmp_path / "i", [doc("a", "obsidian", "everyone")]):
        pass
    docs = tmp_path / "i" / "snap-000001" / "docs.jsonl"
    docs.write_bytes(docs.read_bytes().replace(b'"everyone"', b'"every one"'))
    with pytest.raises(IndexCorrupt):
        KnowledgeIndex.open(tmp_path / "i")
    docs.write_bytes(b"")
    (tmp_path / "i" / "snap-000001" / "meta.json").write_bytes(b'{"format": "ztai-knowledge/1"}')
    with pytest.raises(IndexCorrupt, match="damaged snapshot"):
        KnowledgeIndex.open(tmp_path / "i")
    (tmp_path / "i" / "CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexCorrupt):
        KnowledgeIndex.open(tmp_path / "i")


def test_a_failed_write_breaks_the_instance_until_reopened(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("a", "obsidian", "everyone")])
        journal = tmp_path / "i" / "journal-000000.jsonl"
        kept = journal.read_bytes()
        journal.unlink()
        journal.mkdir()  # the next append fails, even for root
        with pytest.raises(IsADirectoryError):
            index.delete(["a"])
        with pytest.raises(KnowledgeError, match="opened again"):
            index.search("obsidian", EVERYONE)
        journal.rmdir()
        journal.write_bytes(kept)
    with KnowledgeIndex.open(tmp_path / "i") as reopened:
        assert len(reopened.search("obsidian", EVERYONE)) == 1  # the delete never happened

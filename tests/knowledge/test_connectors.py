"""Connectors: a folder with a JSONL manifest and a generic JSONL export. Bad rows are reported
with their line numbers and reasons, never indexed with guessed permissions; nothing is
skipped silently; ``sync`` brings the index up to date, deleting what a source no longer has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ztai.knowledge.connectors.export import ExportScan
from ztai.knowledge.connectors.folder import FolderScan
from ztai.knowledge.connectors.rows import Skipped, lines
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.model import Change
from ztai.knowledge.sync import sync

from .support import doc, reader


def write_rows(path: Path, rows: list[object]) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    (root / "finance").mkdir(parents=True)
    (root / "finance" / "budget.md").write_text("Obsidian budget: forty-two million.")
    (root / "memo.txt").write_text("\ufeffCafeteria memo for everyone.")
    (root / "binary.pdf").write_bytes(b"%PDF-\xff\xfe\x00")
    (root / "orphan.txt").write_text("a file nobody listed")
    (root / "hr").mkdir()
    for name in "abcd":
        (root / "hr" / f"{name}.txt").write_text(f"file {name}")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("x")
    (tmp_path / "outside.txt").write_text("secret outside the share")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    write_rows(root / "manifest.jsonl", [
        {"path": "finance/budget.md", "acl": ["group:finance"], "owner": "user:olga",
         "label": "Confidential"},
        {"path": "memo.txt", "acl": ["everyone"], "owner": None, "title": "Memo"},
        "",
        "{not json",
        ["a", "list"],
        {"path": "../outside.txt", "acl": ["everyone"], "owner": None},
        {"path": "link.txt", "acl": ["everyone"], "owner": None},
        {"path": "/etc/passwd", "acl": ["everyone"], "owner": None},
        {"path": "binary.pdf", "acl": ["everyone"], "owner": None},
        {"path": "missing.txt", "acl": ["everyone"], "owner": None},
        {"path": "memo.txt", "acl": ["everyone"], "owner": None},
        {"path": "hr/a.txt", "owner": None},
        {"path": "hr/b.txt", "acl": "everyone", "owner": None},
        {"path": "hr/c.txt", "acl": ["Everyone"], "owner": None},
        {"path": "hr/d.txt", "acls": ["everyone"], "acl": [], "owner": None},
    ])
    return root


def test_a_folder_scan_reports_every_row_and_file_it_did_not_index(folder: Path) -> None:
    scan = FolderScan(folder, "share")
    documents = list(scan.documents())
    assert [(d.id, d.acl, d.owner, d.label, d.title) for d in documents] == [
        ("share:finance/budget.md", frozenset({"group:finance"}), "user:olga", "Confidential",
         "finance/budget.md"),
        ("share:memo.txt", frozenset({"everyone"}), None, None, "Memo"),
    ]
    assert documents[1].text == "Cafeteria memo for everyone."  # BOM dropped
    reasons = {(s.line, s.reference): s.reason for s in scan.skipped}
    assert reasons == {
        (4, ""): reasons[(4, "")],
        (5, ""): "not a JSON object",
        (6, "../outside.txt"): "path must be relative to the folder, without '..'",
        (7, "link.txt"): "path leads outside the folder",
        (8, "/etc/passwd"): "path must be relative to the folder, without '..'",
        (9, "binary.pdf"): "not UTF-8 text",
        (10, "missing.txt"): "no such file",
        (11, "memo.txt"): "duplicate path, first seen on line 2",
        (12, "hr/a.txt"): "missing acl",
        (13, "hr/b.txt"): "acl must be a list of principal refs",
        (14, "hr/c.txt"): reasons[(14, "hr/c.txt")],
        (15, "hr/d.txt"): "unknown field(s) acls; known: acl, label, owner, path, title",
        (None, ".git/"): "hidden folder, not scanned",
        (None, "orphan.txt"): "not in the manifest: permissions unknown, not indexed",
    }
    assert reasons[(4, "")].startswith("not valid JSON")
    assert reasons[(14, "hr/c.txt")].startswith("invalid principal ref 'Everyone'")


def test_an_export_scan(tmp_path: Path) -> None:
    export = tmp_path / "sharepoint.jsonl"
    good = {"id": "sp-1", "title": "Plan", "text": "obsidian plan", "acl": ["group:obsidian"],
            "owner": "user:olga", "source": "sharepoint/finance", "label": "Confidential",
            "metadata": {"url": "https://example.invalid/plan"}}
    write_rows(export, [
        good,
        {**good, "id": "sp-2", "source": None, "label": None},
        {**good, "id": "sp-1"},
        {**good, "id": "sp-3", "text": 42},
        {**good, "id": ""},
        {**good, "id": "sp-4", "acl": ["group:obsidian", 7]},
        {key: value for key, value in good.items() if key != "acl"} | {"id": "sp-5"},
        {**good, "id": "sp-6", "owner": "group:admins"},
        {**good, "id": "sp-7", "permissions": []},
    ])
    scan = ExportScan(export, "export")
    documents = list(scan.documents())
    assert [(d.id, d.source, d.label) for d in documents] == [
        ("sp-1", "sharepoint/finance", "Confidential"), ("sp-2", "export", None)]
    assert [(s.line, s.reference, s.reason) for s in scan.skipped] == [
        (3, "sp-1", "duplicate id, first seen on line 1"),
        (4, "sp-3", "text must be a string"),
        (5, "", "id must be a non-empty string"),
        (6, "sp-4", "principal ref must be a string, got int"),
        (7, "sp-5", "missing acl"),
        (8, "sp-6", "owner must be a 'user:' ref, got 'group:admins'"),
        (9, "sp-7", "unknown field(s) permissions; known: acl, id, label, metadata, owner, "
                    "source, text, title"),
    ]
    assert scan.sources == {"export", "sharepoint/finance"}


def test_sync_is_incremental_and_prunes(tmp_path: Path, folder: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("elsewhere:a", "obsidian elsewhere", "everyone", source="elsewhere")])
        first = sync(index, FolderScan(folder, "share"))
        assert first.changes == {Change.ADDED: 2}
        assert len(first.skipped) == 14
        finance = reader("group:finance")
        assert [h.citation.document for h in index.search("obsidian budget", finance)] == [
            "share:finance/budget.md"]

        manifest = folder / "manifest.jsonl"
        write_rows(manifest, [
            {"path": "finance/budget.md", "acl": ["group:board"], "owner": "user:olga"},
            {"path": "memo.txt", "acl": ["everyone"], "owner": None, "title": "Memo"},
            {"path": "orphan.txt", "acl": ["everyone"], "owner": None},
        ])
        second = sync(index, FolderScan(folder, "share"))
        assert second.changes == {Change.METADATA: 1, Change.UNCHANGED: 1, Change.ADDED: 1}
        assert index.search("obsidian budget", finance) == []  # the ACL change applied

        write_rows(manifest, [
            {"path": "memo.txt", "acl": ["everyone"], "owner": None, "title": "Memo"},
            {"path": "orphan.txt", "acl": "everyone", "owner": None},  # now a bad row
        ])
        third = sync(index, FolderScan(folder, "share"))
        assert set(third.deleted) == {"share:finance/budget.md", "share:orphan.txt"}
        assert third.changes[Change.DELETED] == 2
        assert index.record("elsewhere:a") is not None  # another source is left alone


def test_a_refused_document_is_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    export = tmp_path / "e.jsonl"
    rows = [{"id": f"d{n}", "title": "", "text": "word " * (10 if n != 2 else 500),
             "acl": ["everyone"], "owner": None} for n in range(5)]
    write_rows(export, rows)
    with KnowledgeIndex.create(tmp_path / "i", options=Options(
            max_document_chars=1000)) as index:
        report = sync(index, ExportScan(export, "e"))
        assert report.changes == {Change.ADDED: 4}
        assert report.skipped == (Skipped(None, "d2", report.skipped[0].reason),)
        assert "at most 1000 characters" in report.skipped[0].reason
        assert index.record("d2") is None
        assert index.stats().documents == 4


def test_an_unreadable_source_deletes_nothing(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("e:a", "kept", "everyone", source="e")])
        with pytest.raises(FileNotFoundError):
            sync(index, ExportScan(tmp_path / "missing.jsonl", "e"))
        assert index.record("e:a") is not None


def test_overlong_lines_are_reported_not_read_whole(tmp_path: Path) -> None:
    export = tmp_path / "e.jsonl"
    export.write_bytes(b'{"id": "a"}\n' + b"x" * 5000 + b"\n" + b"y" * 300 + b'\n{"id": "b"}\n')
    with export.open("rb") as handle:
        rows = [(n, str(r) if isinstance(r, Exception) else r) for n, r in lines(handle, 256)]
    assert rows == [(1, {"id": "a"}), (2, "line longer than 256 bytes"),
                    (3, "line longer than 256 bytes"), (4, {"id": "b"})]

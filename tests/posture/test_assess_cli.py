"""``ztai knowledge index|search`` and ``ztai assess oversharing`` end to end on a small share:
the data-protection classifier labels what the manifest left unlabelled, search trims by
permission and label, and the assessment finds the overshared documents in every format."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ztai.cli.main import app

runner = CliRunner()
KEY = "AKIAZ3MSJV4WWNKWW5FG"


@pytest.fixture
def share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no ztai.yaml here: default labels and rules
    monkeypatch.delenv("ZTAI_CONFIG", raising=False)
    root = tmp_path / "share"
    root.mkdir()
    files = {
        "ops.md": (f"Runbook for the obsidian deploy. Access key {KEY} for the pipeline.",
                   ["everyone"], None),
        "plan.md": ("Obsidian launch plan, board eyes only.", ["group:board"], "Confidential"),
        "menu.md": ("Obsidian cafeteria menu for the week.", ["everyone"], "Public"),
    }
    rows = []
    for name, (text, acl, label) in files.items():
        (root / name).write_text(text)
        rows.append({"path": name, "acl": acl, "owner": "user:olga", "label": label})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_index_search_and_assess(share: Path) -> None:
    indexed = runner.invoke(app, ["knowledge", "index", "share", "--index", "idx"])
    assert indexed.exit_code == 0, indexed.output
    assert "3 added" in indexed.output

    found = runner.invoke(app, ["knowledge", "search", "obsidian", "--index", "idx",
                                "--user", "adele", "--max-label", "Confidential", "--json"])
    assert found.exit_code == 0, found.output
    assert [h["document"] for h in orjson.loads(found.output)] == ["share:menu.md"]
    board = runner.invoke(app, ["knowledge", "search", "obsidian", "--index", "idx",
                                "--user", "bob", "--group", "board", "--json"])
    assert {h["document"] for h in orjson.loads(board.output)} == {
        "share:menu.md", "share:plan.md", "share:ops.md"}

    (share / "groups.json").write_text('{"everyone": 1200, "group:board": 7}')
    report = runner.invoke(app, ["assess", "oversharing", "--index", "idx", "--groups",
                                 "groups.json", "--format", "json"])
    assert report.exit_code == 0, report.output
    assessment = orjson.loads(report.output)
    assert [(e["document"], e["severity"]) for e in assessment["exposures"]] == [
        ("share:ops.md", "critical")]
    assert assessment["exposures"][0]["sensitivity"] == "Highly Confidential"
    assert "secret.aws-access-token" in assessment["exposures"][0]["findings"]

    for output_format, marker in (("html", "<!doctype html>"), ("csv", "rank,risk,severity")):
        written = runner.invoke(app, ["assess", "oversharing", "--index", "idx", "--format",
                                      output_format, "--out", f"report.{output_format}"])
        assert written.exit_code == 0, written.output
        assert (share / f"report.{output_format}").read_text().startswith(marker)
    table = runner.invoke(app, ["assess", "oversharing", "--index", "idx"],
                          env={"COLUMNS": "200"})
    assert "share:ops.md" in table.output


def test_a_second_run_applies_permission_changes_and_reports_skips(share: Path) -> None:
    assert runner.invoke(app, ["knowledge", "index", "share", "--index", "idx"]).exit_code == 0
    manifest = share / "share" / "manifest.jsonl"
    manifest.write_text(
        '{"path": "menu.md", "acl": ["group:kitchen"], "owner": "user:olga"}\n'
        '{"path": "plan.md", "acl": "everyone", "owner": "user:olga"}\n')
    again = runner.invoke(app, ["knowledge", "index", "share", "--index", "idx"])
    assert again.exit_code == 1
    assert "1 metadata" in again.output
    assert "2 deleted" in again.output
    assert "line 2 plan.md: acl must be a list" in again.output
    assert "ops.md: not in the manifest" in again.output
    found = runner.invoke(app, ["knowledge", "search", "obsidian", "--index", "idx",
                                "--user", "adele", "--json"])
    assert orjson.loads(found.output) == []


@pytest.mark.parametrize(("groups", "message"), [
    ('["everyone"]', "expected an object"),
    ('{"everyone": -1}', "member count"),
    ('{"team": 5}', "invalid principal ref"),
    ("{", "cannot read"),
])
def test_bad_group_sizes_are_refused(share: Path, groups: str, message: str) -> None:
    assert runner.invoke(app, ["knowledge", "index", "share", "--index", "idx"]).exit_code == 0
    (share / "groups.json").write_text(groups)
    result = runner.invoke(app, ["assess", "oversharing", "--index", "idx", "--groups",
                                 "groups.json"])
    assert result.exit_code == 1
    assert message in result.output


def test_errors_are_messages_not_tracebacks(share: Path) -> None:
    missing = runner.invoke(app, ["assess", "oversharing", "--index", "nowhere"])
    assert missing.exit_code == 1
    assert "not a knowledge index" in missing.output
    bad_format = runner.invoke(app, ["assess", "oversharing", "--index", "idx", "--format",
                                     "pdf"])
    assert bad_format.exit_code == 1
    no_manifest = runner.invoke(app, ["knowledge", "index", str(share), "--index", "idx"])
    assert no_manifest.exit_code == 1
    assert "cannot read" in no_manifest.output

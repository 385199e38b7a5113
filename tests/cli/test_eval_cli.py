"""``ztai eval`` on the small fixture samples shipped with the tests."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ztai.cli.main import app

runner = CliRunner()
FIXTURES = Path(__file__).parent.parent / "protection" / "fixtures"


def test_eval_secrets_json() -> None:
    result = runner.invoke(app, ["eval", "secrets", str(FIXTURES / "secrets"), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert set(report["sources"]) == {"gitleaks", "detect-secrets"}
    gitleaks = report["sources"]["gitleaks"]
    assert gitleaks["tp"] + gitleaks["fn"] > 0
    assert gitleaks["recall"] == 1.0
    assert report["rules_in_use"] > 200


def test_eval_secrets_table_and_a_missing_folder(tmp_path: Path) -> None:
    table = runner.invoke(app, ["eval", "secrets", str(FIXTURES / "secrets")],
                          env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "precision" in table.output
    missing = runner.invoke(app, ["eval", "secrets", str(tmp_path / "nope")])
    assert missing.exit_code == 1
    assert "cannot read" in missing.output


def test_eval_pii_on_the_fixture_rows() -> None:
    rows = FIXTURES / "pii" / "sample.jsonl"
    result = runner.invoke(app, ["eval", "pii", str(rows), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert report["rows"] > 0
    assert 0 < report["overall"]["overlap"]["f2"] <= 1
    assert "EMAIL_ADDRESS" in report["types"]


def test_eval_pii_rejects_a_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": "a", "spans": [{"start": 0, "end": 9, "type": "X"}]}')
    result = runner.invoke(app, ["eval", "pii", str(bad)])
    assert result.exit_code == 1
    assert "cannot read" in result.output
    assert "line 2: span 0..9 is empty or outside its text of 1 characters" in \
        " ".join(result.output.split())


def test_eval_pii_reads_rows_holding_a_line_separator(tmp_path: Path) -> None:
    """U+2028 is valid inside a JSON string; rows end at newlines only (before 2026-11-28 the
    command split at every line boundary ``str.splitlines`` knows, breaking such a row)."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "a\u2028b x@y.example", "spans": [{"start": 4, "end": 15, '
                    '"type": "EMAIL_ADDRESS"}]}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "pii", str(rows), "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.output)["overall"]["overlap"]["recall"] == 1.0


@pytest.mark.parametrize("command", ["pii", "shield"])
def test_eval_refuses_a_file_without_rows(tmp_path: Path, command: str) -> None:
    """Before 2026-11-28 an empty file gave a report of zeros."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    result = runner.invoke(app, ["eval", command, str(empty), "--json"])
    assert result.exit_code == 1
    assert "holds no rows" in result.output

"""``ztai eval`` on the small fixture samples shipped with the tests."""

from __future__ import annotations

from pathlib import Path

import orjson
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
    bad.write_text('{"text": 3}\n')
    result = runner.invoke(app, ["eval", "pii", str(bad)])
    assert result.exit_code == 1
    assert "cannot read" in result.output

"""``ztai eval shield`` on the fixture rows shipped with the tests."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from ztai.cli.main import app

runner = CliRunner()
SAMPLE = Path(__file__).parent / "fixtures" / "shield_sample.jsonl"


def test_json_report_on_the_fixture_rows() -> None:
    result = runner.invoke(app, ["eval", "shield", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert report["rows"] == 21
    assert set(report["thresholds"]) == {"prompt", "document"}
    assert report["sources"]["ztai:trigger_words"]["fpr"] == 0.0
    assert report["slices"]["overall"]["recall"] >= 0.8
    assert "category:harmful_request" in report["slices"]
    assert report["latency"]["ms_per_kb"]["p50"] > 0
    assert {"prompt", "document"} == set(report["sweep"])


def test_table_with_a_fixed_threshold() -> None:
    result = runner.invoke(app, ["eval", "shield", str(SAMPLE), "--threshold", "0.5"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "precision" in result.output
    assert "'prompt': 0.5" in result.output


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": 7}\n')
    result = runner.invoke(app, ["eval", "shield", str(bad)])
    assert result.exit_code == 1
    assert "line 1" in " ".join(result.output.split())  # rich wraps long paths

"""``ztai eval``: measure detection quality on public data (given by path; nothing is
downloaded). ``secrets`` scores the gitleaks and detect-secrets cases per source; ``pii``
scores labelled PII rows per type."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from ztai.cli.context import console, fail
from ztai.protection.evaluation_pii import evaluate, parse_rows
from ztai.protection.pii import default_pii_detector
from ztai.protection.secrets_detector import SecretDetector
from ztai.protection.secrets_eval import (
    CaseFileError,
    Counts,
    SecretsReport,
    evaluate_secrets,
    load_secret_cases,
)

app = typer.Typer(help="Evaluate detectors on labelled data.", no_args_is_help=True)


@app.command()
def secrets(
    data: Annotated[Path, typer.Argument(help="Folder holding gitleaks/ and detect-secrets/ "
                                              "(e.g. ../shared/data/secrets)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON")]
    = False,
) -> None:
    """Precision, recall and false-positive rate of the secret detectors, per source."""
    try:
        report = evaluate_secrets(load_secret_cases(data), SecretDetector.build())
    except (OSError, CaseFileError) as exc:
        fail(f"cannot read the cases under {data}: {exc}")
    if as_json:
        sys.stdout.write(orjson.dumps(_secrets_json(report)).decode() + "\n")
        return
    table = Table("source", "tp", "fn", "fp", "tn", "precision", "recall", "FPR",
                  "FPR (any kind)")
    for source in report.sources:
        c, a = source.counts, source.any_kind
        table.add_row(source.source, str(c.tp), str(c.fn), str(c.fp), str(c.tn),
                      _fmt(c.precision), _fmt(c.recall), _fmt(c.fpr), _fmt(a.fpr))
    out = console()
    out.print(table)
    out.print(f"{report.rules_in_use} rules in use; skipped: "
              f"{', '.join(f'{s.rule_id} ({s.reason})' for s in report.skipped) or 'none'}")
    for excluded in report.excluded:
        out.print(f"excluded: {excluded.cases} {excluded.source} cases of {excluded.rule} "
                  f"({excluded.reason})")


@app.command()
def pii(
    rows_file: Annotated[Path, typer.Argument(help="JSONL rows {text, spans: [{start, end, "
                                                   "type}]} with Presidio's type names")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON")]
    = False,
) -> None:
    """Precision, recall, F1 and F2 per type and overall (span rules: see the report)."""
    try:
        rows = parse_rows(rows_file.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"cannot read {rows_file}: {exc}")
    report = evaluate(default_pii_detector(), rows)
    if as_json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
        return
    table = Table("type", "precision", "recall", "F1", "F2", "F2 (exact bounds)")
    for name, scores in [*report["types"].items(), ("overall (detected types)",
                                                    report["overall"]),
                         ("overall (all types)", report["overall_all_types"])]:
        o, e = scores["overlap"], scores["exact"]
        table.add_row(name, _fmt(o["precision"]), _fmt(o["recall"]), _fmt(o["f1"]),
                      _fmt(o["f2"]), _fmt(e["f2"]))
    out = console()
    out.print(table)
    out.print(f"{report['rows']} rows; a prediction matches a gold span of the same type "
              f"covering {report['rules']['overlap']}; not detected: "
              f"{', '.join(f'{t} ({n})' for t, n in report['not_detected'].items()) or 'none'}")


def _counts(c: Counts) -> dict[str, Any]:
    return {"tp": c.tp, "fn": c.fn, "fp": c.fp, "tn": c.tn, "precision": c.precision,
            "recall": c.recall, "fpr": c.fpr}


def _secrets_json(report: SecretsReport) -> dict[str, Any]:
    return {
        "sources": {s.source: {**_counts(s.counts), "any_kind": _counts(s.any_kind),
                               "rules": {r.rule: _counts(r.counts) for r in s.rules}}
                    for s in report.sources},
        "rules_in_use": report.rules_in_use,
        "skipped": [{"rule": s.rule_id, "reason": s.reason} for s in report.skipped],
        "excluded": [{"source": e.source, "rule": e.rule, "cases": e.cases, "reason": e.reason}
                     for e in report.excluded],
        "unscoped": list(report.unscoped),
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"

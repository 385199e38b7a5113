"""``ztai eval``: measure detection quality on public data (given by path; nothing is
downloaded). ``secrets`` scores the gitleaks and detect-secrets cases per source; ``pii``
scores labelled PII rows per type; ``shield`` scores labelled attack and benign rows with the
prompt shield."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from ztai.cli.context import console, fail
from ztai.core.scoring import Counts
from ztai.protection.evaluation_pii import evaluate, parse_rows
from ztai.protection.pii import default_pii_detector
from ztai.protection.secrets_detector import SecretDetector
from ztai.protection.secrets_eval import (
    CaseFileError,
    SecretsReport,
    evaluate_secrets,
    load_secret_cases,
)
from ztai.threats import evaluation as shield_eval
from ztai.threats.classifier import ModelFileError, Role, ShieldModel
from ztai.threats.heuristics import DEFAULT_THRESHOLD as HEURISTIC_THRESHOLD
from ztai.threats.heuristics import HeuristicDetector
from ztai.threats.shield import Shield, Source

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
        rows = parse_rows(rows_file.read_text(encoding="utf-8").split("\n"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"cannot read {rows_file}: {exc}")
    if not rows:
        fail(f"{rows_file} holds no rows")
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


@app.command()
def shield(
    rows_file: Annotated[Path, typer.Argument(help="JSONL rows {text, label (1 attack, 0 benign), "
                                                   "context?, kind?, source?, category?, role?}")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON")]
    = False,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="Flag rows of every role at this score (default: the model's per-role thresholds)",
    )] = None,
    tier: Annotated[str, typer.Option(
        "--tier", help="shield (de-obfuscation, rules and classifier: what the gateway runs), "
                       "classifier, or heuristics")] = "shield",
) -> None:
    """Precision, recall, F1 and false-positive rate of the prompt shield overall, per kind,
    category and source, with a threshold sweep and latency percentiles. Indirect rows are
    scored on their context; harmful requests are reported apart from injections."""
    if tier not in _TIERS:
        fail(f"--tier must be one of {', '.join(_TIERS)}")
    try:
        rows = shield_eval.parse_rows(rows_file.read_text(encoding="utf-8").split("\n"))
        model = ShieldModel.load()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"cannot read {rows_file}: {exc}")
    except ModelFileError as exc:
        fail(str(exc))
    if not rows:
        fail(f"{rows_file} holds no rows")
    scorers, defaults = _TIERS[tier](model)
    thresholds = {role: defaults[role] if threshold is None else threshold for role in defaults}
    report = shield_eval.report(shield_eval.score_rows(rows, scorers, time.perf_counter),
                                thresholds)
    if as_json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
        return
    _print_shield(report)


Scorers = tuple[dict[str, Callable[[str], float]], dict[str, float]]


def _classifier_tier(model: ShieldModel) -> Scorers:
    return ({str(role): functools.partial(model.score, role=role) for role in Role},
            {str(role): model.threshold(role) for role in Role})


def _shield_tier(model: ShieldModel) -> Scorers:
    shield = Shield(model)
    sources = {str(Role.PROMPT): Source.USER, str(Role.DOCUMENT): Source.DOCUMENT}

    def scorer(source: Source) -> Callable[[str], float]:
        return lambda text: shield.scan(text, source).decision
    return ({role: scorer(src) for role, src in sources.items()},
            {role: shield.threshold(src) for role, src in sources.items()})


def _heuristics_tier(model: ShieldModel) -> Scorers:
    detector = HeuristicDetector()
    return ({str(role): lambda text: detector.detect(text).score for role in Role},
            {str(role): HEURISTIC_THRESHOLD for role in Role})


_TIERS: dict[str, Callable[[ShieldModel], Scorers]] = {
    "shield": _shield_tier, "classifier": _classifier_tier, "heuristics": _heuristics_tier}


def _print_shield(report: dict[str, Any]) -> None:
    out = console()
    for title, part in (("slice", report["slices"]), ("source", report["sources"])):
        table = Table(title, "tp", "fn", "fp", "tn", "precision", "recall", "F1", "FPR")
        for name, c in part.items():
            table.add_row(name, str(c["tp"]), str(c["fn"]), str(c["fp"]), str(c["tn"]),
                          _fmt(c["precision"]), _fmt(c["recall"]), _fmt(c["f1"]),
                          _fmt(c["fpr"]))
        out.print(table)
    for role, sweep in report["sweep"].items():
        table = Table(f"{role}: threshold", "precision", "recall", "F1", "FPR",
                      "harmful recall")
        for row in sweep["thresholds"]:
            table.add_row(f"{row['threshold']:.2f}", _fmt(row["precision"]),
                          _fmt(row["recall"]), _fmt(row["f1"]), _fmt(row["fpr"]),
                          _fmt(row["harmful_recall"]))
        out.print(table)
        for budget, at in sweep["at_fpr"].items():
            out.print(f"{role}: FPR <= {budget} at threshold {at['threshold']:.4f}: "
                      f"recall {_fmt(at['recall'])}, FPR {_fmt(at['fpr'])}")
    lat = report["latency"]
    out.print(f"{report['rows']} rows; thresholds {report['thresholds']}; latency ms per row "
              f"p50 {_fmt(lat['ms_per_row']['p50'])} p99 {_fmt(lat['ms_per_row']['p99'])}, "
              f"per KiB p50 {_fmt(lat['ms_per_kb']['p50'])} p99 {_fmt(lat['ms_per_kb']['p99'])}")


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

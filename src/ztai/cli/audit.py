"""``ztai audit``: verify the hash chain and signed checkpoints, show the tail, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.table import Table

from ztai.audit.anchor import read_anchors
from ztai.audit.reader import export_jsonl, tail
from ztai.audit.reader import verify_store as verify_log
from ztai.audit.signing import CheckpointSigner, load_public_key
from ztai.cli.context import ConfigOption, audit_store, console, fail, settings_from
from ztai.config.settings import Settings
from ztai.storage.model import Checkpoint

_KEY_HELP = "PEM public key (default: derived from the configured signing key)"
_ANCHOR_HELP = "Anchor file of checkpoints kept outside the database"
app = typer.Typer(help="Inspect and verify the tamper-evident audit log.", no_args_is_help=True)


@app.command()
def verify(
    public_key: Annotated[Path | None, typer.Option(help=_KEY_HELP)] = None,
    anchor: Annotated[Path | None, typer.Option(help=_ANCHOR_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Detect any edit, deletion, insertion, reordering or truncation. Exit 1 if broken."""
    settings = settings_from(config)
    report = verify_log(audit_store(settings), _public_key(settings, public_key),
                        _anchors(anchor))
    if as_json:
        sys.stdout.write(orjson.dumps({
            "ok": report.ok, "count": report.count, "last_seq": report.last_seq,
            "last_hash": report.last_hash, "checkpoints_verified": report.checkpoints_verified,
            "unanchored": report.unanchored, "problem_count": report.problem_count,
            "signatures_checked": report.signatures_checked,
            "problems": [{"seq": p.seq, "message": p.message} for p in report.problems],
        }).decode() + "\n")
    else:
        out = console()
        for problem in report.problems:
            out.print(f"[red]✗[/red] seq {problem.seq}: {problem.message}")
        if not report.signatures_checked:
            out.print("[yellow]checkpoint signatures were not checked (no public key)[/yellow]")
        state = "[green]intact[/green]" if report.ok else "[red]TAMPERED[/red]"
        out.print(f"{report.count} events, {report.checkpoints_verified} signed checkpoints "
                  f"verified, {report.unanchored} events after the last checkpoint: {state}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("tail")
def tail_command(
    n: Annotated[int, typer.Option("-n", help="How many events")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the newest events."""
    records = tail(audit_store(settings_from(config)), n)
    if as_json:
        for record in records:
            sys.stdout.write(orjson.dumps(record).decode() + "\n")
        return
    table = Table("seq", "principal", "route", "resource", "status", "decision", "reasons")
    for record in records:
        event: dict[str, Any] = record.get("event") or {}
        decision = event.get("decision") or {}
        table.add_row(str(record["seq"]), str(event.get("principal")), str(event.get("route")),
                      str(event.get("resource")), str(event.get("status")),
                      str(decision.get("effect")), "; ".join(decision.get("reasons", [])))
    console().print(table)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="Export format")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
    after: Annotated[int, typer.Option(help="Only events after this seq")] = 0,
    config: ConfigOption = None,
) -> None:
    """Export events as JSON lines (each with its seq, hash and prev_hash)."""
    if fmt != "jsonl":
        fail(f"unsupported format {fmt!r}: only jsonl")
    store = audit_store(settings_from(config))
    if out is None:
        export_jsonl(store, sys.stdout.buffer, after)
        return
    with out.open("wb") as file:
        count = export_jsonl(store, file, after)
    console().print(f"Exported {count} events to {out}.")


def _public_key(settings: Settings, path: Path | None) -> Ed25519PublicKey | None:
    try:
        if path is not None:
            return load_public_key(path)
        signing_key = settings.path(settings.audit.signing_key)
        if not signing_key.exists():
            console().print("[yellow]no signing key: checkpoint signatures not checked[/yellow]")
            return None
        return CheckpointSigner.from_pem_file(signing_key).public_key
    except (OSError, ValueError) as exc:
        fail(f"cannot load the public key: {exc}")


def _anchors(path: Path | None) -> list[Checkpoint]:
    if path is None:
        return []
    try:
        return read_anchors(path)
    except (OSError, ValueError) as exc:
        fail(f"cannot read anchor file {path}: {exc}")

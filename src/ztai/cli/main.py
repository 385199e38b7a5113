"""The ``ztai`` command: one entry point, a sub-command per job."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ztai.cli import (
    access,
    agents,
    approvals,
    assess,
    audit,
    demo,
    evaluate,
    keys,
    knowledge,
    mcp,
    policy,
    risk,
    serve,
)
from ztai.core.errors import ZtaiError

app = typer.Typer(help="ztai: a Zero Trust gateway for AI.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.command()(serve.init)
app.command()(serve.serve)
app.command()(demo.demo)
app.add_typer(keys.app, name="keys")
app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(access.app, name="access")
app.add_typer(agents.app, name="agents")
app.add_typer(approvals.app, name="approvals")
app.add_typer(evaluate.app, name="eval")
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(assess.app, name="assess")
app.add_typer(mcp.app, name="mcp")
app.add_typer(risk.app, name="risk")


def run() -> None:
    """The console script. A ztai error no command handled itself (the database unreadable or
    locked, a key file that holds no key) is said in one line, exit status 1 — not a
    traceback, as every command gave before 2026-11-28 for a damaged database."""
    try:
        app()
    except ZtaiError as exc:  # outside click's main: its Exit would not be caught here
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {exc.message}")
        sys.exit(1)

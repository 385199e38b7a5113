"""The ``ztai`` command: one entry point, a sub-command per job."""

from __future__ import annotations

import typer

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
    app()

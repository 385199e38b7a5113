"""``ztai policy``: validate the policy directory; explain a decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from ztai.cli.context import ConfigOption, console, fail, settings_from
from ztai.cli.keys import parse_attributes
from ztai.config.settings import load_yaml
from ztai.core.errors import ZtaiError
from ztai.core.model import Action, Principal, PrincipalId, PrincipalKind, Resource, ResourceKind
from ztai.gateway.build import load_authorizer, model_entities
from ztai.policy.explain import explain as explain_request
from ztai.policy.explain import render, validate_dir
from ztai.policy.interface import AuthzRequest
from ztai.policy.loader import not_loaded
from ztai.policy.testing import parse_cases, run_cases

app = typer.Typer(help="Check and explain Cedar policies.", no_args_is_help=True)


@app.command()
def validate(config: ConfigOption = None) -> None:
    """Validate every policy file against ztai's Cedar schema."""
    settings = settings_from(config)
    directory = settings.path(settings.policy.dir)
    problems = validate_dir(directory)
    for note in not_loaded(directory):
        console().print(f"[yellow]![/yellow] {note}", markup=True)
    for problem in problems:
        console().print(f"[red]✗[/red] {problem}")
    if problems:
        raise typer.Exit(1)
    console().print(f"[green]✓[/green] policies in {directory} are valid")


@app.command("test")
def run_tests(
    cases_file: Annotated[Path, typer.Argument(help="YAML file with a 'cases' list")],
    config: ConfigOption = None,
) -> None:
    """Run table-driven policy tests against the configured policies and models."""
    settings = settings_from(config)
    try:
        document = load_yaml(cases_file.read_text(encoding="utf-8"))
        cases = parse_cases(document)
        authorizer = load_authorizer(settings)
        results = run_cases(authorizer.snapshot.policies, model_entities(settings), cases)
    except (OSError, yaml.YAMLError) as exc:
        fail(f"cannot read {cases_file}: {exc}")
    except ZtaiError as exc:
        fail(exc.message)
    out = console()
    for result in results:
        mark = "[green]✓[/green]" if result.passed else "[red]✗[/red]"
        out.print(f"{mark} {result.case.name}")
        for failure in result.failures:
            out.print(f"    {failure}", markup=False)
    failed = sum(not r.passed for r in results)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@app.command()
def explain(
    principal: Annotated[str, typer.Option(help="Principal name")],
    action: Annotated[Action, typer.Option(help="Action")] = Action.INVOKE_MODEL,
    resource: Annotated[str, typer.Option(help="Model name, or 'gateway'")] = "gateway",
    kind: Annotated[PrincipalKind, typer.Option(help="Principal kind")] = PrincipalKind.USER,
    group: Annotated[list[str] | None, typer.Option(help="Group (repeatable)")] = None,
    attr: Annotated[list[str] | None, typer.Option(help="Attribute key=value")] = None,
    route: Annotated[str, typer.Option(help="Route in the context")] = "chat.completions",
    stream: Annotated[bool, typer.Option(help="Streamed request")] = False,
    config: ConfigOption = None,
) -> None:
    """Show how the policies decide a request and which policies decided it."""
    who = Principal(PrincipalId(principal), kind, frozenset(group or ()),
                    parse_attributes(attr or []), auth_method="api_key")
    target = (Resource(ResourceKind.GATEWAY, "gateway") if resource == "gateway"
              else Resource(ResourceKind.MODEL, resource))
    context = {"route": route, "stream": stream, "auth_method": "api_key",
               "principal_kind": kind.value}
    try:
        explanation = explain_request(load_authorizer(settings_from(config)),
                                      AuthzRequest(who, action, target, context))
    except ZtaiError as exc:
        fail(exc.message)
    console().print(render(explanation), markup=False)
    if not explanation.decision.is_allow:
        raise typer.Exit(2)

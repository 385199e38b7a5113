"""``ztai assess``: posture assessments. ``oversharing`` ranks the sensitive documents of a
knowledge index that broad audiences can read, with suggested fixes, as a table, JSON, CSV or
an HTML report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.cli.context import ConfigOption, console, fail
from ztai.cli.knowledge import label_scheme, protection_settings
from ztai.core.errors import ZtaiError
from ztai.knowledge.access import parse_ref
from ztai.knowledge.index import KnowledgeIndex
from ztai.posture.oversharing import Assessment, Directory, assess
from ztai.posture.oversharing_report import as_csv, as_html, as_json

app = typer.Typer(help="Assess posture.", no_args_is_help=True)
FORMATS = ("table", "json", "csv", "html")


@app.command()
def oversharing(
    index: Annotated[Path, typer.Option("--index", "-i", help="The knowledge index directory")],
    groups: Annotated[Path | None, typer.Option(
        help='JSON of member counts: {"everyone": 5000, "group:sales": 340, ...}')] = None,
    sensitive_from: Annotated[str, typer.Option(help="Lowest label that counts as sensitive")]
    = "Confidential",
    broad_min: Annotated[int, typer.Option(help="Groups this large are broad")] = 100,
    output_format: Annotated[str, typer.Option("--format", help="table, json, csv or html")]
    = "table",
    out: Annotated[Path | None, typer.Option(help="Write the report here")] = None,
    top: Annotated[int, typer.Option(help="Rows in the table")] = 20,
    config: ConfigOption = None,
) -> None:
    """Sensitive documents readable by everyone or by large groups, riskiest first."""
    if output_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    scheme = label_scheme(protection_settings(config))
    directory = Directory(_sizes(groups) if groups else {}, broad_min)
    try:
        with KnowledgeIndex.open(index) as knowledge:
            assessment = assess(knowledge.records(), scheme, directory, sensitive_from)
    except ZtaiError as exc:
        fail(exc.message)
    except ValueError as exc:
        fail(str(exc))
    if output_format == "table":
        _table(assessment, top)
        return
    text = {"json": lambda: orjson.dumps(as_json(assessment), option=orjson.OPT_INDENT_2
                                         ).decode() + "\n",
            "csv": lambda: as_csv(assessment), "html": lambda: as_html(assessment)}[
        output_format]()
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")
    console().print(f"{len(assessment.exposures)} overshared documents; report in {out}")


def _sizes(path: Path) -> dict[str, int]:
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    if not isinstance(raw, dict):
        fail(f"{path}: expected an object of principal refs to member counts")
    sizes: dict[str, int] = {}
    for ref, count in raw.items():
        if type(count) is not int or count < 0:
            fail(f"{path}: {ref!r} must map to a member count")
        try:
            sizes[parse_ref(ref)] = count
        except ZtaiError as exc:
            fail(f"{path}: {exc.message}")
    return sizes


def _table(assessment: Assessment, top: int) -> None:
    out = console()
    out.print(f"{assessment.documents} documents, {assessment.sensitive} sensitive "
              f"({assessment.sensitive_from} or above), {len(assessment.exposures)} broadly "
              "readable")
    table = Table("risk", "document", "label", "broad access", "first fix")
    for exposure in assessment.exposures[:top]:
        table.add_row(f"{exposure.risk} {exposure.severity}", exposure.document,
                      exposure.sensitivity, ", ".join(ref for ref, _ in exposure.broad),
                      exposure.fixes[0] if exposure.fixes else "")
    out.print(table)

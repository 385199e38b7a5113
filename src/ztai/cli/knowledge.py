"""``ztai knowledge``: index a folder (with its permissions manifest) or a JSONL export into a
knowledge index, incrementally (changed text re-indexed, permission changes applied without
re-tokenising, vanished documents deleted), and search it as a given user."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.cli.context import ConfigOption, console, fail, settings_from
from ztai.config.settings import ProtectionSettings
from ztai.core.errors import ZtaiError
from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.knowledge.access import LabelCeiling, Reader, refs_for
from ztai.knowledge.connectors.export import ExportScan
from ztai.knowledge.connectors.folder import FolderScan
from ztai.knowledge.embedding import StaticEmbedder, embedder_for
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.search import SearchMode
from ztai.knowledge.sync import Scan, sync
from ztai.posture.classification import ProtectionClassifier
from ztai.protection.labels import LabelRule, LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector

app = typer.Typer(help="Index documents with their permissions; search as a user.",
                  no_args_is_help=True)
IndexOption = Annotated[Path, typer.Option("--index", "-i", help="The index directory")]


def protection_settings(config: Path | None) -> ProtectionSettings:
    """The configured protection settings, or the defaults when there is no ztai.yaml."""
    path = config or Path(os.environ.get("ZTAI_CONFIG", "ztai.yaml"))
    return settings_from(path).protection if path.exists() or config else ProtectionSettings()


def label_scheme(settings: ProtectionSettings) -> LabelScheme:
    try:
        return LabelScheme(settings.labels, tuple(LabelRule(r.kinds, r.label)
                                                  for r in settings.label_rules),
                           settings.label_ids)
    except ValueError as exc:
        fail(f"protection.labels: {exc}")


@app.command("index")
def index_command(
    path: Annotated[Path, typer.Argument(help="A folder with manifest.jsonl, or a JSONL export")],
    index: IndexOption,
    source: Annotated[str | None, typer.Option(help="Source name (default: the folder's or "
                                                    "file's name)")] = None,
    manifest: Annotated[Path | None, typer.Option(help="Manifest of a folder "
                                                       "(default: FOLDER/manifest.jsonl)")] = None,
    prune: Annotated[bool, typer.Option(help="Delete documents of this source that are gone")]
    = True,
    classify: Annotated[bool, typer.Option(help="Label documents from their content "
                                                "(secrets, PII)")] = True,
    vectors: Annotated[bool, typer.Option(help="A new index also holds vectors from ztai's "
                                               "static embedding model (hybrid search); an "
                                               "existing index keeps what it was built with")]
    = False,
    config: ConfigOption = None,
) -> None:
    """Bring INDEX up to date with PATH. Exit 1 if any row or file was skipped (they are
    listed; everything else is indexed)."""
    name = source or path.stem
    scan: Scan = FolderScan(path, name, manifest) if path.is_dir() else ExportScan(path, name)
    exists = (index / "CURRENT").exists()
    try:
        if exists:
            embedder = embedder_for(KnowledgeIndex.vector_dimension(index))
            if vectors and embedder is None:
                fail(f"{index} was built without vectors: build a new index with --vectors")
        else:
            embedder = StaticEmbedder.load() if vectors else None
        options = Options(classifier=_classifier(config) if classify else None,
                          embedder=embedder)
        opened = KnowledgeIndex.open(index, options, writable=True) \
            if exists else KnowledgeIndex.create(index, options=options)
        with opened as knowledge:
            report = sync(knowledge, scan, prune)
            stats = knowledge.stats()
            if stats.unmerged_chunks * 10 >= max(stats.chunks, 1):
                knowledge.compact()
    except (OSError, ZtaiError) as exc:
        fail(exc.message if isinstance(exc, ZtaiError) else f"cannot read {path}: {exc}")
    out = console()
    out.print(", ".join(f"{n} {c.value}" for c, n in sorted(report.changes.items())) or
              "nothing changed")
    for skipped in report.skipped:
        where = f"line {skipped.line}" if skipped.line is not None else "file"
        out.print(f"[yellow]skipped[/yellow] {where} {skipped.reference}: {skipped.reason}",
                  markup=True, highlight=False)
    if report.skipped:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    index: IndexOption,
    user: Annotated[str, typer.Option(help="Search as this user")],
    group: Annotated[list[str] | None, typer.Option(help="A group of the user (repeat)")] = None,
    max_label: Annotated[str | None, typer.Option(help="Highest label the user may see")]
    = None,
    k: Annotated[int, typer.Option("-k", help="How many chunks")] = 10,
    mode: Annotated[SearchMode, typer.Option(help="bm25, vector or hybrid (BM25 alone where "
                                                  "the index has no vectors)")]
    = SearchMode.HYBRID,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """The best chunks USER may read (ACL and label clearance), with citations."""
    labels = protection_settings(config).labels
    principal = Principal(PrincipalId(user), PrincipalKind.USER, frozenset(group or ()))
    try:
        reader = Reader.of(refs_for(principal),
                           LabelCeiling(labels, max_label or labels[-1]))
        embedder = embedder_for(KnowledgeIndex.vector_dimension(index))
        with KnowledgeIndex.open(index, Options(embedder=embedder)) as knowledge:
            hits = knowledge.search(query, reader, k=k, mode=mode)
    except (ValueError, ZtaiError) as exc:
        fail(exc.message if isinstance(exc, ZtaiError) else str(exc))
    if as_json:
        sys.stdout.write(orjson.dumps([{
            "document": h.citation.document, "title": h.citation.title,
            "chunk": h.citation.chunk, "start": h.citation.start, "end": h.citation.end,
            "label": h.label, "score": round(h.score, 4), "text": h.text} for h in hits]
        ).decode() + "\n")
        return
    table = Table("score", "document", "chunk", "label", "text")
    for hit in hits:
        table.add_row(f"{hit.score:.3f}", hit.citation.document, str(hit.citation.chunk),
                      hit.label or "-", hit.text[:120].replace("\n", " "))
    console().print(table)


def _classifier(config: Path | None) -> ProtectionClassifier:
    settings = protection_settings(config)
    return ProtectionClassifier(
        (SecretDetector.build(), structured_pii_detector(settings.phone_regions)),
        label_scheme(settings))

"""The generic JSONL export: one document per line, ``{"id", "title", "text", "acl", "owner",
"source"?, "label"?, "metadata"?}``, e.g. SharePoint or Drive items with their permissions
flattened to principal refs. ``metadata`` is accepted and ignored; any other unknown field is a
bad row (a misspelt ``acl`` must not pass). A repeated id is skipped, naming the first line."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ztai.knowledge.connectors.rows import (
    RowError,
    Skipped,
    check_fields,
    lines,
    open_rows,
    permissions,
    reference,
    text,
)
from ztai.knowledge.model import Document, DocumentId

REQUIRED = frozenset({"id", "title", "text", "acl", "owner"})
OPTIONAL = frozenset({"source", "label", "metadata"})


class ExportScan:
    """Reads an export lazily; ``skipped`` and ``sources`` are complete once ``documents``
    has been iterated to the end. ``default_source`` names documents whose row has none."""

    def __init__(self, path: Path, default_source: str) -> None:
        self.path = path
        self.default_source = default_source
        self.skipped: list[Skipped] = []
        self.sources: set[str] = {default_source}

    def documents(self) -> Iterator[Document]:
        first_line: dict[str, int] = {}
        with open_rows(self.path) as handle:
            for number, row in lines(handle):
                try:
                    if isinstance(row, RowError):
                        raise row
                    document = self._document(row)
                    if document.id in first_line:
                        raise RowError(f"duplicate id, first seen on line "
                                       f"{first_line[document.id]}")
                    first_line[document.id] = number
                except RowError as exc:
                    self.skipped.append(Skipped(number, reference(row, "id"), str(exc)))
                    continue
                yield document

    def _document(self, row: Mapping[str, object]) -> Document:
        check_fields(row, REQUIRED, OPTIONAL)
        granted = permissions(row)
        source = text(row, "source") or self.default_source
        self.sources.add(source)
        body = row["text"]
        if not isinstance(body, str):
            raise RowError("text must be a string")
        return Document(DocumentId(text(row, "id", required=True) or ""), body, granted.acl,
                        granted.owner, granted.title or "", source, granted.label)

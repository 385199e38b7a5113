"""A folder of text files with a JSONL manifest of their permissions: one row per file,
``{"path", "acl", "owner", "label"?, "title"?}``, ``path`` relative to the folder. A file is
indexed only through its manifest row; a file without one is reported, not indexed (its
permissions are unknown). Paths that leave the folder (``..``, absolute, a symlink pointing
out) are refused. Documents are named ``SOURCE:PATH``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ztai.knowledge.connectors.rows import (
    Permissions,
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

MANIFEST = "manifest.jsonl"
REQUIRED = frozenset({"path", "acl", "owner"})
OPTIONAL = frozenset({"label", "title"})


class FolderScan:
    """Reads the manifest lazily; ``skipped`` is complete once ``documents`` has been iterated
    to the end (it then also lists the folder's files that no row names)."""

    def __init__(self, root: Path, source: str, manifest: Path | None = None,
                 max_bytes: int = 32 * 1024 * 1024) -> None:
        self.root = root.resolve()
        self.source = source
        self.manifest = manifest or root / MANIFEST
        self.max_bytes = max_bytes
        self.skipped: list[Skipped] = []
        self.sources = {source}

    def documents(self) -> Iterator[Document]:
        listed: dict[str, int] = {}
        mentioned: set[str] = set()  # by any row, good or bad: reported there, not as unlisted
        with open_rows(self.manifest) as handle:
            for number, row in lines(handle):
                mentioned.add(reference(row, "path"))
                try:
                    if isinstance(row, RowError):
                        raise row
                    check_fields(row, REQUIRED, OPTIONAL)
                    path = self._path(text(row, "path", required=True) or "")
                    if path in listed:
                        raise RowError(f"duplicate path, first seen on line {listed[path]}")
                    listed[path] = number
                    document = self._document(path, permissions(row))
                except RowError as exc:
                    self.skipped.append(Skipped(number, reference(row, "path"), str(exc)))
                    continue
                yield document
        self.skipped.extend(self._unlisted(mentioned))

    def _path(self, raw: str) -> str:
        relative = PurePosixPath(raw)
        if relative.is_absolute() or ".." in relative.parts or "\\" in raw or "\x00" in raw:
            raise RowError("path must be relative to the folder, without '..'")
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root):
            raise RowError("path leads outside the folder")
        if not resolved.is_file():
            raise RowError("no such file")
        return relative.as_posix()

    def _document(self, path: str, granted: Permissions) -> Document:
        file = self.root / path
        try:
            if file.stat().st_size > self.max_bytes:
                raise RowError(f"file larger than {self.max_bytes} bytes")
            body = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RowError("not UTF-8 text") from None
        except OSError as exc:
            raise RowError(f"cannot read: {exc.strerror}") from None
        return Document(DocumentId(f"{self.source}:{path}"), body, granted.acl, granted.owner,
                        granted.title or path, self.source, granted.label)

    def _unlisted(self, mentioned: set[str]) -> Iterator[Skipped]:
        manifest = self.manifest.resolve()
        for directory, folders, files in os.walk(self.root):
            here = Path(directory)
            for hidden in sorted(f for f in folders if f.startswith(".")):
                yield Skipped(None, (here / hidden).relative_to(self.root).as_posix() + "/",
                              "hidden folder, not scanned")
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            for name in sorted(files):
                path = (here / name).relative_to(self.root).as_posix()
                if path not in mentioned and (here / name).resolve() != manifest:
                    yield Skipped(None, path, "not in the manifest: permissions unknown, "
                                              "not indexed")

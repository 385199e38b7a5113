"""One JSONL row of a manifest or an export, checked field by field. A bad row becomes a
``Skipped`` entry with its line number and the reason; it never becomes a document with
guessed permissions (a missing ``acl`` is an error, not "nobody" or "everyone")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from ztai.knowledge.access import parse_acl, parse_owner
from ztai.knowledge.interface import InvalidDocument

MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something a connector did not index: ``line`` in the manifest or export (None for a
    file found in the folder), what it was (an id or a path, when known) and why."""

    line: int | None
    reference: str
    reason: str


class RowError(ValueError):
    """Why one row cannot be used."""


@dataclass(frozen=True, slots=True)
class Permissions:
    acl: frozenset[str]
    owner: str | None
    label: str | None
    title: str | None


def lines(handle: IO[bytes], limit: int = MAX_LINE_BYTES
          ) -> Iterator[tuple[int, Mapping[str, object] | RowError]]:
    """Each non-blank line as an object, or the error that kept it from being one. A line
    longer than ``limit`` is never held in memory whole: it is read past and reported."""
    number = 0
    while raw := handle.readline(limit + 1):
        number += 1
        if len(raw) > limit:
            while not raw.endswith(b"\n") and (raw := handle.readline(limit)):
                pass
            yield number, RowError(f"line longer than {limit} bytes")
            continue
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield number, RowError(f"not valid JSON: {exc}")
            continue
        yield number, value if isinstance(value, dict) else RowError("not a JSON object")


def check_fields(row: Mapping[str, object], required: frozenset[str],
                 optional: frozenset[str]) -> None:
    missing = sorted(required - row.keys())
    unknown = sorted(row.keys() - required - optional)
    if missing:
        raise RowError(f"missing {', '.join(missing)}")
    if unknown:
        raise RowError(f"unknown field(s) {', '.join(unknown)}; known: "
                       f"{', '.join(sorted(required | optional))}")


def permissions(row: Mapping[str, object]) -> Permissions:
    acl = row["acl"]
    if not isinstance(acl, list):
        raise RowError("acl must be a list of principal refs")
    try:
        refs, owner = parse_acl(acl), parse_owner(row.get("owner"))
    except InvalidDocument as exc:
        raise RowError(exc.message) from None
    return Permissions(refs, owner, text(row, "label"), text(row, "title"))


def text(row: Mapping[str, object], name: str, required: bool = False) -> str | None:
    value = row.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise RowError(f"{name} must be a{' non-empty' if required else ''} string")
    return value


def reference(row: Mapping[str, object] | RowError, name: str) -> str:
    value = row.get(name) if isinstance(row, Mapping) else None
    return value[:200] if isinstance(value, str) else ""


def open_rows(path: Path) -> IO[bytes]:
    return path.open("rb")

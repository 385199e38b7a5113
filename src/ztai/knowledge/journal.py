"""The journal: every change since the last snapshot, one operation per line, appended and
synced before it is applied, so a change survives a crash as soon as the call that made it
returns. Each line carries a CRC-32 of its JSON; an incomplete last line (a write cut short) is
ignored by readers and cut off when a writer opens the journal; a damaged complete line makes
the journal unreadable (``IndexCorrupt``) rather than silently skipped."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from ztai.knowledge.interface import IndexCorrupt


def encode(operation: dict[str, Any]) -> bytes:
    body = orjson.dumps(operation)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def append(path: Path, operations: Sequence[dict[str, Any]]) -> int:
    """Append and sync; returns the journal's new size."""
    with path.open("ab") as handle:
        handle.write(b"".join(encode(op) for op in operations))
        handle.flush()
        os.fsync(handle.fileno())
        return handle.tell()


def replay(path: Path, offset: int = 0) -> Iterator[tuple[dict[str, Any], int]]:
    """Each complete operation after ``offset``, with the offset just past it."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for line in handle:
            if not line.endswith(b"\n"):
                return  # a write in progress, or cut short by a crash
            offset += len(line)
            yield _decode(line, offset), offset


def cut_torn_tail(path: Path) -> int:
    """Drop an incomplete last line (a writer's crash); returns how many bytes were dropped."""
    good = 0
    for _, end in replay(path):
        good = end
    size = path.stat().st_size
    if size > good:
        with path.open("r+b") as handle:
            handle.truncate(good)
            os.fsync(handle.fileno())
    return size - good


def _decode(line: bytes, end: int) -> dict[str, Any]:
    head, _, body = line[:-1].partition(b" ")
    try:
        valid = int(head, 16) == zlib.crc32(body)
        operation = orjson.loads(body) if valid else None
    except (ValueError, orjson.JSONDecodeError):
        operation = None
    if not isinstance(operation, dict):
        raise IndexCorrupt(f"journal damaged in the line ending at byte {end}")
    return operation

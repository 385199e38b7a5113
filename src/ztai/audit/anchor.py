"""The anchor file: an append-only JSON-lines copy of every checkpoint, kept outside the database.

Someone who can edit the database can delete the newest entries *and* their checkpoints; the
anchor still names them, so ``verify_store(..., anchors=read_anchors(path))`` reports the cut.
Keep it where the database's writer cannot rewrite it (another disk, a WORM bucket, a log
shipper). Each line is ``canonical_json`` of a checkpoint; a torn last line is ignored."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from ztai.audit.canonical import canonical_json
from ztai.storage.model import Checkpoint

_FIELDS = ("seq", "hash", "time", "key_id", "signature")


def append_anchor(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and fsync it. Raises ``OSError``."""
    cp = checkpoint
    line = canonical_json(
        {"seq": cp.seq, "hash": cp.hash, "time": cp.time, "key_id": cp.key_id,
         "signature": cp.signature}
    )
    with path.open("ab") as file:
        file.write(line + b"\n")
        file.flush()
        os.fsync(file.fileno())


def read_anchors(path: Path) -> list[Checkpoint]:
    """Raises ``OSError`` if unreadable, ``ValueError`` naming the line if one is malformed."""
    lines = path.read_bytes().split(b"\n")
    return [_parse(number, line) for number, line in enumerate(lines[:-1], start=1)]


def _parse(number: int, line: bytes) -> Checkpoint:
    try:
        raw = orjson.loads(line)
        seq, hash_, time, key_id, signature = (raw[name] for name in _FIELDS)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"anchor line {number} is malformed: {exc}") from exc
    numbers_ok = type(seq) is int and type(time) in (int, float)
    if not numbers_ok or not all(isinstance(v, str) for v in (hash_, key_id, signature)):
        raise ValueError(f"anchor line {number} has a field of the wrong type")
    return Checkpoint(seq, hash_, float(time), key_id, signature)

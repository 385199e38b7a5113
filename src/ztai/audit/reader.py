"""Reading a stored log: verify it, show its tail, export it as JSON lines.

An exported line is ``{"event": <payload>, "hash", "prev_hash", "seq"}`` with sorted keys; the
event's canonical JSON (``canonical_json(line["event"])``) is the payload that was hashed, so a
third party can re-check the chain from the export alone (see ``ztai.audit.chain``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ztai.audit.canonical import canonical_json
from ztai.audit.verify import VerifyReport, verify_chain
from ztai.storage.interface import AuditStore
from ztai.storage.model import ChainedEntry, Checkpoint


def verify_store(
    store: AuditStore,
    public_key: Ed25519PublicKey | None,
    anchors: Iterable[Checkpoint] = (),
) -> VerifyReport:
    """Verify the whole log in one streaming pass against the store's checkpoints and any
    ``anchors`` (see ``ztai.audit.anchor``). Raises ``StoreUnavailable`` if the store fails."""
    checkpoints = [*store.checkpoints(), *anchors]
    return verify_chain(store.read(), checkpoints, public_key)


def tail(store: AuditStore, n: int) -> list[dict[str, Any]]:
    """The last ``n`` entries as export records, oldest first."""
    head = store.head()
    if head is None or n <= 0:
        return []
    return [entry_record(e) for e in store.read(after_seq=max(0, head.seq - n))]


def export_jsonl(store: AuditStore, out: BinaryIO, after_seq: int = 0) -> int:
    """Write every entry after ``after_seq`` as one line to ``out``; returns how many."""
    count = 0
    for entry in store.read(after_seq=after_seq):
        out.write(canonical_json(entry_record(entry)) + b"\n")
        count += 1
    return count


def entry_record(entry: ChainedEntry) -> dict[str, Any]:
    """A payload that is not JSON (a tampered row) is kept as text under ``invalid_payload``."""
    record: dict[str, Any] = {"seq": entry.seq, "hash": entry.hash, "prev_hash": entry.prev_hash}
    try:
        record["event"] = orjson.loads(entry.payload)
    except orjson.JSONDecodeError:
        record["event"] = None
        record["invalid_payload"] = entry.payload.decode("utf-8", "replace")
    return record

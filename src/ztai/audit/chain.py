"""The hash chain: how an entry's hash is computed and how payloads are linked into entries.

    hash = sha256(b"ztai-audit-v1\\n" + ascii(seq) + b"\\n" + ascii(prev_hash) + b"\\n" + payload)

as lowercase hex; ``seq`` counts from 1 in decimal, ``prev_hash`` is the previous entry's hash
(``GENESIS_HASH``, 64 zeros, for seq 1) and ``payload`` the canonical JSON bytes as stored. Binding
``seq`` means that moving an entry breaks its hash even if two payloads are identical."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ztai.storage.model import ChainedEntry

GENESIS_HASH = "0" * 64
_DOMAIN = b"ztai-audit-v1\n"


def entry_hash(seq: int, prev_hash: str, payload: bytes) -> str:
    """The hash an entry at ``seq`` with ``prev_hash`` and ``payload`` must carry."""
    digest = hashlib.sha256(_DOMAIN)
    digest.update(f"{seq}\n{prev_hash}\n".encode("ascii", "replace"))
    digest.update(payload)
    return digest.hexdigest()


def link(prev: ChainedEntry | None, payloads: Iterable[bytes]) -> list[ChainedEntry]:
    """Chain ``payloads`` after ``prev`` (None: start a new log at seq 1)."""
    seq, prev_hash = (0, GENESIS_HASH) if prev is None else (prev.seq, prev.hash)
    entries: list[ChainedEntry] = []
    for payload in payloads:
        seq += 1
        entry = ChainedEntry(seq, payload, prev_hash, entry_hash(seq, prev_hash, payload))
        entries.append(entry)
        prev_hash = entry.hash
    return entries

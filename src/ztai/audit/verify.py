"""Checking a chain: one streaming pass over the entries against signed checkpoints.

Detects an edited payload or hash, a deleted, inserted or moved entry, and, through checkpoints,
a rewritten or truncated tail. Entries after the last verified checkpoint can still be cut off or
rewritten unseen; the report counts them as ``unanchored``."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ztai.audit.chain import GENESIS_HASH, entry_hash
from ztai.audit.signing import verify_checkpoint
from ztai.storage.model import ChainedEntry, Checkpoint

MAX_PROBLEMS = 100  # kept in the report; ``problem_count`` counts them all


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """``ok`` only if no problem was found. ``signatures_checked`` is False when no public key
    was given: checkpoints were then compared with the chain but their signatures were not."""

    count: int
    last_seq: int
    last_hash: str
    checkpoints_verified: int
    unanchored: int
    problems: tuple[Problem, ...]
    problem_count: int
    signatures_checked: bool

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def verify_chain(
    entries: Iterable[ChainedEntry],
    checkpoints: Iterable[Checkpoint],
    public_key: Ed25519PublicKey | None,
) -> VerifyReport:
    """Consumes ``entries`` once, in seq order, holding only the previous entry in memory."""
    walk = _Walk()
    walk.expect(_signed(checkpoints, public_key, walk))
    for entry in entries:
        walk.step(entry)
    walk.finish()
    return walk.report(signatures_checked=public_key is not None)


def _signed(
    checkpoints: Iterable[Checkpoint], public_key: Ed25519PublicKey | None, walk: _Walk
) -> list[Checkpoint]:
    """Distinct checkpoints whose signature holds; each bad one is reported."""
    good: list[Checkpoint] = []
    for cp in sorted(set(checkpoints), key=lambda c: c.seq):
        if public_key is None or verify_checkpoint(cp, public_key):
            good.append(cp)
        else:
            walk.problem(cp.seq, "checkpoint signature is invalid (forged, or another key)")
    return good


class _Walk:
    """The state of one verification pass (private, lives for one call)."""

    def __init__(self) -> None:
        self.pending: deque[Checkpoint] = deque()
        self.prev_seq, self.prev_hash = 0, GENESIS_HASH
        self.count = self.anchored_count = self.verified = self.problem_count = 0
        self.problems: list[Problem] = []

    def problem(self, seq: int, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, message))

    def expect(self, checkpoints: list[Checkpoint]) -> None:
        self.pending.extend(checkpoints)

    def step(self, entry: ChainedEntry) -> None:
        computed = entry_hash(entry.seq, entry.prev_hash, entry.payload)
        if computed != entry.hash:
            self.problem(entry.seq, "hash does not match the entry (payload or hash edited)")
        self._check_place(entry)
        self.count += 1
        self.prev_seq, self.prev_hash = entry.seq, entry.hash
        self._check_anchors(entry, computed)

    def _check_place(self, entry: ChainedEntry) -> None:
        expected = self.prev_seq + 1
        if entry.seq > expected:
            self.problem(entry.seq, f"entries {expected}..{entry.seq - 1} are missing (deleted)")
        elif entry.seq < expected:
            self.problem(entry.seq, f"out of order or duplicated: expected seq {expected}")
        elif entry.prev_hash != self.prev_hash:
            self.problem(entry.seq, "does not link to the previous entry (inserted, moved, "
                         "or the previous entry was edited)")

    def _check_anchors(self, entry: ChainedEntry, computed: str) -> None:
        while self.pending and self.pending[0].seq <= entry.seq:
            cp = self.pending.popleft()
            if cp.seq < entry.seq:
                self.problem(cp.seq, "a checkpoint names an entry that is missing")
            elif cp.hash == entry.hash == computed:
                self.verified += 1
                self.anchored_count = self.count
            else:
                self.problem(cp.seq, "the chain differs from its signed checkpoint "
                             "(this entry or earlier ones were rewritten)")

    def finish(self) -> None:
        for cp in self.pending:
            self.problem(cp.seq, f"log truncated: a checkpoint at seq {cp.seq} is past "
                         f"the last entry ({self.prev_seq})")
        self.pending.clear()

    def report(self, *, signatures_checked: bool) -> VerifyReport:
        return VerifyReport(
            count=self.count,
            last_seq=self.prev_seq,
            last_hash=self.prev_hash,
            checkpoints_verified=self.verified,
            unanchored=self.count - self.anchored_count,
            problems=tuple(self.problems),
            problem_count=self.problem_count,
            signatures_checked=signatures_checked,
        )

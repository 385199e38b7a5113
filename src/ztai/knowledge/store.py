"""The index directory: ``CURRENT`` names the live generation; generation N is the snapshot
``snap-N/`` and the journal ``journal-N.jsonl`` of changes since it. One writer at a time
(an exclusive ``flock`` on ``LOCK``); any number of readers, who never lock. Publishing a new
generation is an atomic rename of ``CURRENT``; older generations are removed after it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path
from typing import IO

from ztai.knowledge.interface import IndexCorrupt, IndexLocked

_PREFIX = "snap-"


class Directory:
    def __init__(self, root: Path) -> None:
        self.root = root

    def snapshot(self, generation: int) -> Path:
        return self.root / f"{_PREFIX}{generation:06d}"

    def journal(self, generation: int) -> Path:
        return self.root / f"journal-{generation:06d}.jsonl"

    def generation(self) -> int:
        """The live generation; ``IndexCorrupt`` if there is none or ``CURRENT`` is damaged."""
        try:
            name = (self.root / "CURRENT").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexCorrupt(f"{self.root} is not a knowledge index: {exc}") from None
        if not name.startswith(_PREFIX) or not name[len(_PREFIX):].isdigit():
            raise IndexCorrupt(f"{self.root}/CURRENT names {name[:40]!r}")
        return int(name[len(_PREFIX):])

    def lock(self) -> IO[bytes]:
        """Hold the writer's lock until the returned file is closed."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / "LOCK").open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise IndexLocked(f"{self.root} is open for writing by another process") from None
        return handle

    def publish(self, generation: int) -> None:
        """Make ``generation`` live (its snapshot and empty journal exist), drop older ones."""
        self.journal(generation).touch()
        staged = self.root / "CURRENT.tmp"
        with staged.open("w", encoding="ascii") as handle:
            handle.write(self.snapshot(generation).name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        staged.replace(self.root / "CURRENT")
        descriptor = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        for older in self._generations():
            if older < generation:
                shutil.rmtree(self.snapshot(older), ignore_errors=True)
                with contextlib.suppress(FileNotFoundError):
                    self.journal(older).unlink()

    def _generations(self) -> list[int]:
        names = (p.name[len(_PREFIX):] for p in self.root.iterdir() if p.name.startswith(_PREFIX))
        return sorted(int(n) for n in names if n.isdigit())

    def size(self) -> int:
        """Bytes on disk of the live generation."""
        generation = self.generation()
        files = [*self.snapshot(generation).iterdir(), self.journal(generation)]
        return sum(f.stat().st_size for f in files if f.exists())

"""Tool-definition pins: the first-seen digest of each MCP tool's definition per server, and
whether a definition may be used. A tool whose definition changes (a "rug pull") or a tool that
appears later is quarantined until someone approves it; every version seen is kept.

Kept apart from the other control tables so that the MCP capability can evolve its store on its
own; the SQLite table lives in the same database file and is created on first use."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ztai.storage.sqlite import _translated, connect


class PinStatus(StrEnum):
    APPROVED = "approved"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ToolPin:
    """One version of one tool's definition (``digest`` of its canonical JSON, kept in
    ``definition``) and what was decided about it."""

    server: str
    tool: str
    digest: str
    definition: str
    status: PinStatus
    first_seen: float
    reason: str = ""
    decided_by: str | None = None
    decided_at: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", PinStatus(self.status))


class PinStore(Protocol):
    def pins(self, server: str) -> list[ToolPin]:
        """Every version of every tool of ``server``, oldest first."""
        ...

    def add_pin(self, pin: ToolPin) -> bool:
        """Store a version not seen before; False (and no change) if it is already known."""
        ...

    def decide_pin(self, server: str, tool: str, digest: str, status: PinStatus, by: str,
                   at: float, reason: str) -> ToolPin | None:
        """Set a known version's status; None if there is no such version."""
        ...


class MemoryPinStore:
    def __init__(self) -> None:
        self._pins: dict[tuple[str, str, str], ToolPin] = {}
        self._lock = threading.Lock()

    def pins(self, server: str) -> list[ToolPin]:
        with self._lock:
            return [p for p in self._pins.values() if p.server == server]

    def add_pin(self, pin: ToolPin) -> bool:
        with self._lock:
            key = (pin.server, pin.tool, pin.digest)
            if key in self._pins:
                return False
            self._pins[key] = pin
            return True

    def decide_pin(self, server: str, tool: str, digest: str, status: PinStatus, by: str,
                   at: float, reason: str) -> ToolPin | None:
        with self._lock:
            pin = self._pins.get((server, tool, digest))
            if pin is None:
                return None
            decided = ToolPin(pin.server, pin.tool, pin.digest, pin.definition, status,
                              pin.first_seen, reason, by, at)
            self._pins[(server, tool, digest)] = decided
            return decided


_TABLE = """
CREATE TABLE IF NOT EXISTS tool_pins (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    digest TEXT NOT NULL,
    definition TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen REAL NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    decided_by TEXT,
    decided_at REAL,
    UNIQUE (server, tool, digest)
)"""
_COLUMNS = "server, tool, digest, definition, status, first_seen, reason, decided_by, decided_at"


class SqlitePinStore:
    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()
        with self._lock, _translated():
            self._conn.execute(_TABLE)

    def pins(self, server: str) -> list[ToolPin]:
        with self._lock, _translated():
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM tool_pins WHERE server = ? ORDER BY seq",  # noqa: S608
                (server,)).fetchall()
        return [ToolPin(*row) for row in rows]

    def add_pin(self, pin: ToolPin) -> bool:
        with self._lock, _translated():
            cursor = self._conn.execute(
                f"INSERT OR IGNORE INTO tool_pins ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (pin.server, pin.tool, pin.digest, pin.definition, pin.status.value,
                 pin.first_seen, pin.reason, pin.decided_by, pin.decided_at))
            return cursor.rowcount == 1

    def decide_pin(self, server: str, tool: str, digest: str, status: PinStatus, by: str,
                   at: float, reason: str) -> ToolPin | None:
        with self._lock, _translated():
            self._conn.execute(
                "UPDATE tool_pins SET status = ?, decided_by = ?, decided_at = ?, reason = ? "
                "WHERE server = ? AND tool = ? AND digest = ?",
                (status.value, by, at, reason, server, tool, digest))
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM tool_pins WHERE server = ? AND tool = ? "  # noqa: S608
                "AND digest = ?", (server, tool, digest)).fetchone()
        return ToolPin(*row) if row else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


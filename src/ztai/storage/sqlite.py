"""SQLite backend: one file, zero setup. WAL mode with synchronous=FULL, so a commit is on disk
when it returns; each store opens its own connection (a connection is used by one thread)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson

from ztai.core.errors import StoreUnavailable
from ztai.core.model import PrincipalKind
from ztai.storage.interface import DuplicateKey
from ztai.storage.model import ChainedEntry, Checkpoint, KeyRecord

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        principal TEXT NOT NULL,
        kind TEXT NOT NULL,
        groups_json TEXT NOT NULL,
        attributes_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        revoked_at REAL,
        description TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters VALUES ('keys_version', 0);
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        payload BLOB NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE audit_checkpoints (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        time REAL NOT NULL,
        key_id TEXT NOT NULL,
        signature TEXT NOT NULL
    );
    """,
)

_PAGE = 1000  # rows per query when streaming the audit log, so memory stays flat


def connect(path: Path) -> sqlite3.Connection:
    """Open (and migrate) the database at ``path``; raises ``StoreUnavailable`` on failure."""
    try:
        conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        _migrate(conn)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        current = row[0] or 0
        for version, script in enumerate(_MIGRATIONS, start=1):
            if version > current:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class _Connected:
    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock; rolled back on any error."""
        with self._lock, _translated():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (busy, I/O error) can leave the transaction open.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SqliteKeyStore(_Connected):
    def put_key(self, record: KeyRecord) -> None:
        row = (
            record.key_id,
            record.secret_hash,
            record.principal,
            record.kind.value,
            orjson.dumps(sorted(record.groups)).decode(),
            orjson.dumps(dict(record.attributes)).decode(),
            record.created_at,
            record.expires_at,
            record.revoked_at,
            record.description,
        )
        try:
            with self._transaction() as conn:
                conn.execute("INSERT INTO api_keys VALUES (?,?,?,?,?,?,?,?,?,?)", row)
                _bump(conn)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey(record.key_id) from exc

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self._lock, _translated():
            cursor = self._conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
            row = cursor.fetchone()
        return None if row is None else _key_from_row(row)

    def list_keys(self) -> list[KeyRecord]:
        with self._lock, _translated():
            rows = self._conn.execute("SELECT * FROM api_keys ORDER BY created_at").fetchall()
        return [_key_from_row(row) for row in rows]

    def revoke_key(self, key_id: str, at: float) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (at, key_id),
            )
            if cursor.rowcount:
                _bump(conn)
        return cursor.rowcount == 1

    def keys_version(self) -> int:
        with self._lock, _translated():
            row = self._conn.execute("SELECT value FROM counters WHERE name = 'keys_version'")
            return int(row.fetchone()[0])


class SqliteAuditStore(_Connected):
    def append(self, entries: Sequence[ChainedEntry], checkpoint: Checkpoint | None) -> None:
        rows = [(e.seq, e.payload, e.prev_hash, e.hash) for e in entries]
        try:
            with self._transaction() as conn:
                conn.executemany("INSERT INTO audit_log VALUES (?,?,?,?)", rows)
                if checkpoint is not None:
                    conn.execute(
                        "INSERT INTO audit_checkpoints VALUES (?,?,?,?,?)",
                        (checkpoint.seq, checkpoint.hash, checkpoint.time,
                         checkpoint.key_id, checkpoint.signature),
                    )
        except sqlite3.IntegrityError as exc:
            raise StoreUnavailable(f"audit seq already stored: {exc}") from exc

    def head(self) -> ChainedEntry | None:
        with self._lock, _translated():
            row = self._conn.execute(
                "SELECT seq, payload, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return None if row is None else _entry(row)

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[ChainedEntry]:
        """Streams in pages of ``_PAGE`` rows (keyset pagination), so a log of millions of
        entries never sits in memory; errors surface as ``StoreUnavailable`` while iterating."""
        remaining = limit
        while remaining is None or remaining > 0:
            size = _PAGE if remaining is None else min(_PAGE, remaining)
            page = self._page(after_seq, size)
            yield from page
            if len(page) < size:
                return
            after_seq = page[-1].seq
            remaining = None if remaining is None else remaining - len(page)

    def _page(self, after_seq: int, size: int) -> list[ChainedEntry]:
        query = "SELECT seq, payload, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq"
        with self._lock, _translated():
            rows = self._conn.execute(query + " LIMIT ?", (after_seq, size)).fetchall()
        return [_entry(r) for r in rows]

    def checkpoints(self) -> list[Checkpoint]:
        with self._lock, _translated():
            rows = self._conn.execute(
                "SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq"
            ).fetchall()
        return [Checkpoint(*row) for row in rows]


@contextmanager
def _translated() -> Iterator[None]:
    """Turn sqlite3 errors (other than integrity errors) into ``StoreUnavailable``."""
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite error: {exc}") from exc


def _entry(row: tuple[object, ...]) -> ChainedEntry:
    """A row as stored, whatever was written into it: an edited payload may come back as TEXT
    (or another type), and must reach the verifier as a mismatch, not crash the read."""
    seq, payload, prev_hash, hash_ = row
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    elif not isinstance(payload, bytes):
        payload = str(payload).encode()
    return ChainedEntry(int(seq), payload, str(prev_hash), str(hash_))  # type: ignore[call-overload]  # seq is INTEGER


def _bump(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'keys_version'")


def _key_from_row(row: tuple[object, ...]) -> KeyRecord:
    (key_id, secret_hash, principal, kind, groups, attributes,
     created_at, expires_at, revoked_at, description) = row
    return KeyRecord(
        key_id=str(key_id),
        secret_hash=str(secret_hash),
        principal=str(principal),
        kind=PrincipalKind(str(kind)),
        groups=frozenset(orjson.loads(str(groups))),
        attributes=orjson.loads(str(attributes)),
        created_at=float(created_at),  # type: ignore[arg-type]  # REAL column
        expires_at=None if expires_at is None else float(expires_at),  # type: ignore[arg-type]
        revoked_at=None if revoked_at is None else float(revoked_at),  # type: ignore[arg-type]
        description=str(description),
    )

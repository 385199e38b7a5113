"""SQLite backend: one file, zero setup. WAL mode with synchronous=FULL, so a commit is on disk
when it returns; each store opens its own connection (a connection is used by one thread)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ztai.core.errors import StoreUnavailable
from ztai.core.model import PrincipalKind
from ztai.storage.interface import CursorMoved, DuplicateKey, SeqConflict
from ztai.storage.model import (
    AccessGrant,
    AgentRecord,
    AlertDelivery,
    AlertEvidence,
    AlertRecord,
    AlertStatus,
    ChainedEntry,
    Checkpoint,
    DeliveryStatus,
    GrantStatus,
    HeldCall,
    HeldStatus,
    KeyRecord,
    MonitorCheckpoint,
    MonitorSave,
    Revocation,
    RevocationKind,
    RiskLevel,
    RiskRecord,
    TermsAcceptance,
)

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
    """
    CREATE TABLE agents (
        agent_id TEXT PRIMARY KEY,
        sponsor TEXT NOT NULL,
        public_jwk_json TEXT NOT NULL,
        allowed_models_json TEXT NOT NULL,
        groups_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        disabled INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX agents_by_created ON agents (created_at, agent_id);
    CREATE TABLE revocations (
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        at REAL NOT NULL,
        until REAL,
        reason TEXT NOT NULL,
        revoked_by TEXT NOT NULL,
        PRIMARY KEY (kind, subject)
    );
    CREATE INDEX revocations_by_until ON revocations (until) WHERE until IS NOT NULL;
    CREATE TABLE terms_acceptances (
        principal TEXT NOT NULL,
        app TEXT NOT NULL,
        version TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (principal, app, version)
    );
    CREATE TABLE risk_history (
        id INTEGER PRIMARY KEY,
        principal TEXT NOT NULL,
        level TEXT NOT NULL,
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX risk_history_by_principal ON risk_history (principal, at, id);
    CREATE TABLE risk_current (
        principal TEXT PRIMARY KEY,
        level TEXT NOT NULL,
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE TABLE access_grants (
        grant_id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        role TEXT NOT NULL,
        reason TEXT NOT NULL,
        duration_s REAL NOT NULL,
        requested_at REAL NOT NULL,
        status TEXT NOT NULL,
        decided_by TEXT,
        decided_at REAL,
        expires_at REAL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX access_grants_by_requested ON access_grants (requested_at, grant_id);
    INSERT INTO counters VALUES ('control_version', 0);
    """,
    """
    CREATE TABLE held_calls (
        call_id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        chain_json TEXT NOT NULL,
        action TEXT NOT NULL,
        resource TEXT NOT NULL,
        summary_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        status TEXT NOT NULL,
        decided_by TEXT,
        decided_at REAL,
        reason TEXT NOT NULL DEFAULT '',
        notify_error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX held_calls_by_status ON held_calls (status, created_at, call_id);
    CREATE INDEX held_calls_by_created ON held_calls (created_at, call_id);
    """,
    """
    CREATE TABLE monitor_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
    INSERT INTO monitor_cursor VALUES (1, 0);
    CREATE TABLE monitor_state (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        state BLOB NOT NULL,
        PRIMARY KEY (scope, key)
    );
    CREATE TABLE risk_alerts (
        alert_id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        level TEXT NOT NULL,
        score REAL NOT NULL,
        status TEXT NOT NULL,
        raised_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        revision INTEGER NOT NULL,
        indicators_json TEXT NOT NULL,
        evidence_json TEXT NOT NULL,
        closed_by TEXT NOT NULL DEFAULT '',
        closed_at REAL,
        close_reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX risk_alerts_by_raised ON risk_alerts (raised_at, alert_id);
    CREATE TABLE alert_deliveries (
        alert_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        sink TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at REAL NOT NULL,
        last_error TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (alert_id, revision, sink)
    );
    CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_at);
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
    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        """``fsync=False`` (synchronous=NORMAL in WAL mode): a commit survives the process being
        killed, but the newest commits may be lost if the machine itself loses power."""
        self._conn = connect(path)
        if not fsync:
            self._conn.execute("PRAGMA synchronous=NORMAL")
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
            raise SeqConflict(f"audit seq already stored: {exc}") from exc

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



# --- Control state: agents, revocations, terms, risk, access grants -------------------------

_T = TypeVar("_T")
_Row = tuple[Any, ...]
_DUPLICATE = frozenset({"SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"})
_INSERT_AGENT = (
    "INSERT INTO agents (agent_id, sponsor, public_jwk_json, allowed_models_json, groups_json,"
    " created_at, expires_at, disabled, description) VALUES (?,?,?,?,?,?,?,?,?)"
)
_SELECT_AGENTS = (
    "SELECT agent_id, sponsor, public_jwk_json, allowed_models_json, groups_json, created_at,"
    " expires_at, disabled, description FROM agents"
)
_INSERT_GRANT = (
    "INSERT INTO access_grants (grant_id, principal, role, reason, duration_s, requested_at,"
    " status, decided_by, decided_at, expires_at, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_SELECT_GRANTS = (
    "SELECT grant_id, principal, role, reason, duration_s, requested_at, status, decided_by,"
    " decided_at, expires_at, note FROM access_grants"
)
_UPSERT_REVOCATION = """
    INSERT INTO revocations (kind, subject, at, until, reason, revoked_by) VALUES (?,?,?,?,?,?)
    ON CONFLICT (kind, subject) DO UPDATE SET at = excluded.at, until = excluded.until,
        reason = excluded.reason, revoked_by = excluded.revoked_by
    WHERE (revocations.at, revocations.until, revocations.reason, revocations.revoked_by)
        IS NOT (excluded.at, excluded.until, excluded.reason, excluded.revoked_by)
"""
_UPSERT_CURRENT_RISK = """
    INSERT INTO risk_current (principal, level, reason, set_by, at) VALUES (?,?,?,?,?)
    ON CONFLICT (principal) DO UPDATE SET level = excluded.level, reason = excluded.reason,
        set_by = excluded.set_by, at = excluded.at
    WHERE excluded.at >= risk_current.at
"""


class SqliteControlStore(_Connected):
    """Every write runs in one transaction with its ``control_version`` bump; a write that
    changes nothing commits nothing."""

    @contextmanager
    def _write(self, duplicate_of: str | None = None) -> Iterator[sqlite3.Connection]:
        with _refused(duplicate_of), self._transaction() as conn:
            yield conn

    def _select(self, convert: Callable[[_Row], _T], query: str,
                params: Sequence[object] = ()) -> list[_T]:
        with self._lock, _translated():
            rows = self._conn.execute(query, params).fetchall()
        return [_decoded(convert, row) for row in rows]

    def control_version(self) -> int:
        with self._lock, _translated():
            row = self._conn.execute("SELECT value FROM counters WHERE name = 'control_version'")
            return int(row.fetchone()[0])

    # --- AgentStore ---

    def put_agent(self, record: AgentRecord) -> None:
        row = (
            record.agent_id,
            record.sponsor,
            orjson.dumps(dict(record.public_jwk)).decode(),
            _json_set(record.allowed_models),
            _json_set(record.groups),
            record.created_at,
            record.expires_at,
            int(record.disabled),
            record.description,
        )
        with self._write(duplicate_of=record.agent_id) as conn:
            conn.execute(_INSERT_AGENT, row)
            _bump_control(conn)

    def get_agent(self, agent_id: str) -> AgentRecord | None:
        found = self._select(_agent_from_row, _SELECT_AGENTS + " WHERE agent_id = ?", (agent_id,))
        return found[0] if found else None

    def list_agents(self) -> list[AgentRecord]:
        return self._select(_agent_from_row, _SELECT_AGENTS + " ORDER BY created_at, agent_id")

    def set_agent_disabled(self, agent_id: str, disabled: bool) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE agents SET disabled = ? WHERE agent_id = ? AND disabled <> ?",
                (int(disabled), agent_id, int(disabled)),
            ).rowcount
            _bump_control(conn, changed)
        return changed == 1

    def delete_agent(self, agent_id: str) -> bool:
        with self._write() as conn:
            changed = conn.execute("DELETE FROM agents WHERE agent_id = ?", (agent_id,)).rowcount
            _bump_control(conn, changed)
        return changed == 1

    # --- RevocationStore ---

    def revoke(self, revocation: Revocation) -> None:
        r = revocation
        with self._write() as conn:
            changed = conn.execute(
                _UPSERT_REVOCATION, (r.kind.value, r.subject, r.at, r.until, r.reason, r.by)
            ).rowcount
            _bump_control(conn, changed)

    def unrevoke(self, kind: RevocationKind, subject: str) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "DELETE FROM revocations WHERE kind = ? AND subject = ?", (kind.value, subject)
            ).rowcount
            _bump_control(conn, changed)
        return changed == 1

    def revocations(self) -> list[Revocation]:
        return self._select(
            _revocation_from_row,
            "SELECT kind, subject, at, until, reason, revoked_by FROM revocations"
            " ORDER BY at, kind, subject",
        )

    def prune_revocations(self, now: float) -> int:
        with self._write() as conn:
            changed = conn.execute(
                "DELETE FROM revocations WHERE until IS NOT NULL AND until <= ?", (now,)
            ).rowcount
            _bump_control(conn, changed)
        return int(changed)

    # --- TermsStore ---

    def accept_terms(self, acceptance: TermsAcceptance) -> None:
        a = acceptance
        with self._write() as conn:
            changed = conn.execute(
                "INSERT INTO terms_acceptances (principal, app, version, at) VALUES (?,?,?,?)"
                " ON CONFLICT (principal, app, version) DO NOTHING",
                (a.principal, a.app, a.version, a.at),
            ).rowcount
            _bump_control(conn, changed)

    def terms_acceptances(self) -> list[TermsAcceptance]:
        return self._select(
            _terms_from_row,
            "SELECT principal, app, version, at FROM terms_acceptances"
            " ORDER BY at, principal, app, version",
        )

    # --- RiskStore ---

    def set_risk(self, record: RiskRecord) -> None:
        row = (record.principal, record.level.value, record.reason, record.set_by, record.at)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO risk_history (principal, level, reason, set_by, at)"
                " VALUES (?,?,?,?,?)", row,
            )
            conn.execute(_UPSERT_CURRENT_RISK, row)
            _bump_control(conn)

    def risk_levels(self) -> dict[str, RiskRecord]:
        records = self._select(
            _risk_from_row, "SELECT principal, level, reason, set_by, at FROM risk_current"
        )
        return {record.principal: record for record in records}

    def risk_history(self, principal: str) -> list[RiskRecord]:
        return self._select(
            _risk_from_row,
            "SELECT principal, level, reason, set_by, at FROM risk_history"
            " WHERE principal = ? ORDER BY at, id",
            (principal,),
        )

    # --- GrantStore ---

    def put_grant(self, grant: AccessGrant) -> None:
        with self._write(duplicate_of=grant.grant_id) as conn:
            conn.execute(_INSERT_GRANT, _grant_row(grant))
            _bump_control(conn)

    def update_grant(self, grant: AccessGrant, expected_status: GrantStatus) -> bool:
        with self._write() as conn:
            # BEGIN IMMEDIATE holds the write lock, so no other writer moves between read and set.
            row = conn.execute(_SELECT_GRANTS + " WHERE grant_id = ?", (grant.grant_id,)).fetchone()
            if row is None:
                return False
            stored = _decoded(_grant_from_row, row)
            if not stored.is_same_request(grant):
                raise ValueError(f"grant {grant.grant_id}: the request itself cannot change")
            if stored.status != expected_status:
                return False
            if stored != grant:
                conn.execute(
                    "UPDATE access_grants SET status = ?, decided_by = ?, decided_at = ?,"
                    " expires_at = ?, note = ? WHERE grant_id = ?",
                    (grant.status.value, grant.decided_by, grant.decided_at, grant.expires_at,
                     grant.note, grant.grant_id),
                )
                _bump_control(conn)
        return True

    def get_grant(self, grant_id: str) -> AccessGrant | None:
        found = self._select(_grant_from_row, _SELECT_GRANTS + " WHERE grant_id = ?", (grant_id,))
        return found[0] if found else None

    def list_grants(self) -> list[AccessGrant]:
        return self._select(_grant_from_row, _SELECT_GRANTS + " ORDER BY requested_at, grant_id")


@contextmanager
def _refused(duplicate_of: str | None) -> Iterator[None]:
    """An integrity error is ``DuplicateKey`` when it is a clash on the key the caller inserts;
    any other (a constraint, a trigger) means the store could not write: ``StoreUnavailable``."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if duplicate_of is not None and exc.sqlite_errorname in _DUPLICATE:
            raise DuplicateKey(duplicate_of) from exc
        raise StoreUnavailable(f"SQLite error: {exc}") from exc


def _bump_control(conn: sqlite3.Connection, changed: int = 1) -> None:
    if changed:
        conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'control_version'")


def _decoded(convert: Callable[[_Row], _T], row: _Row) -> _T:
    """A row that does not decode (edited by hand, say) is a store that cannot answer."""
    try:
        return convert(row)
    except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise StoreUnavailable(f"SQLite row does not decode: {exc}") from exc


def _json_set(values: frozenset[str]) -> str:
    return orjson.dumps(sorted(values)).decode()


def _strings(text: str) -> frozenset[str]:
    values = orjson.loads(text)
    if not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
        raise TypeError("expected a JSON list of strings")
    return frozenset(values)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _agent_from_row(row: _Row) -> AgentRecord:
    (agent_id, sponsor, jwk, models, groups, created_at, expires_at, disabled,
     description) = row
    public_jwk = orjson.loads(jwk)
    if not isinstance(public_jwk, dict):
        raise TypeError("public_jwk is not a JSON object")
    return AgentRecord(
        agent_id=str(agent_id),
        sponsor=str(sponsor),
        public_jwk=public_jwk,
        allowed_models=_strings(models),
        groups=_strings(groups),
        created_at=float(created_at),
        expires_at=_optional_float(expires_at),
        disabled=bool(disabled),
        description=str(description),
    )


def _revocation_from_row(row: _Row) -> Revocation:
    kind, subject, at, until, reason, by = row
    return Revocation(RevocationKind(kind), str(subject), float(at), _optional_float(until),
                      str(reason), str(by))


def _terms_from_row(row: _Row) -> TermsAcceptance:
    principal, app, version, at = row
    return TermsAcceptance(str(principal), str(app), str(version), float(at))


def _risk_from_row(row: _Row) -> RiskRecord:
    principal, level, reason, set_by, at = row
    return RiskRecord(str(principal), RiskLevel(level), str(reason), str(set_by), float(at))


def _grant_row(g: AccessGrant) -> _Row:
    return (g.grant_id, g.principal, g.role, g.reason, g.duration_s, g.requested_at,
            g.status.value, g.decided_by, g.decided_at, g.expires_at, g.note)


def _grant_from_row(row: _Row) -> AccessGrant:
    (grant_id, principal, role, reason, duration_s, requested_at, status, decided_by,
     decided_at, expires_at, note) = row
    return AccessGrant(
        grant_id=str(grant_id),
        principal=str(principal),
        role=str(role),
        reason=str(reason),
        duration_s=float(duration_s),
        requested_at=float(requested_at),
        status=GrantStatus(status),
        decided_by=None if decided_by is None else str(decided_by),
        decided_at=_optional_float(decided_at),
        expires_at=_optional_float(expires_at),
        note=str(note),
    )


# --- Held calls ---------------------------------------------------------------------------------

_SELECT_HELD = (
    "SELECT call_id, principal, chain_json, action, resource, summary_json, created_at,"
    " expires_at, status, decided_by, decided_at, reason, notify_error FROM held_calls"
)


class SqliteApprovalStore(_Connected):
    """Held calls, on their own connection; writes never touch ``control_version``. Several
    processes (the gateway, the CLI) may share the file: the compare-and-set runs under
    SQLite's write lock."""

    def put_held(self, call: HeldCall) -> None:
        with _refused(call.id), self._transaction() as conn:
            conn.execute("INSERT INTO held_calls VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         _held_row(call))

    def get_held(self, call_id: str) -> HeldCall | None:
        found = self._held(" WHERE call_id = ?", (call_id,))
        return found[0] if found else None

    def update_held(self, call: HeldCall, expected_status: HeldStatus) -> bool:
        with _refused(None), self._transaction() as conn:
            row = conn.execute(_SELECT_HELD + " WHERE call_id = ?", (call.id,)).fetchone()
            if row is None:
                return False
            if not _decoded(_held_from_row, row).is_same_call(call):
                raise ValueError(f"held call {call.id}: the call itself cannot change")
            changed = conn.execute(
                "UPDATE held_calls SET status = ?, decided_by = ?, decided_at = ?, reason = ?,"
                " notify_error = ? WHERE call_id = ? AND status = ?",
                (call.status.value, call.decided_by, call.decided_at, call.reason,
                 call.notify_error, call.id, expected_status.value),
            ).rowcount
        return changed == 1

    def list_held(self, status: HeldStatus | None = None) -> list[HeldCall]:
        if status is None:
            return self._held(" ORDER BY created_at, call_id")
        return self._held(" WHERE status = ? ORDER BY created_at, call_id", (status.value,))

    def _held(self, where: str, params: Sequence[object] = ()) -> list[HeldCall]:
        with self._lock, _translated():
            rows = self._conn.execute(_SELECT_HELD + where, params).fetchall()
        return [_decoded(_held_from_row, row) for row in rows]


def _held_row(c: HeldCall) -> _Row:
    return (c.id, c.principal, orjson.dumps(list(c.chain)).decode(), c.action, c.resource,
            orjson.dumps(dict(c.summary)).decode(), c.created_at, c.expires_at, c.status.value,
            c.decided_by, c.decided_at, c.reason, c.notify_error)


def _held_from_row(row: _Row) -> HeldCall:
    (call_id, principal, chain, action, resource, summary, created_at, expires_at, status,
     decided_by, decided_at, reason, notify_error) = row
    texts = orjson.loads(summary)
    if not (isinstance(texts, dict) and all(isinstance(v, str) for v in texts.values())):
        raise TypeError("summary is not a JSON object of strings")
    return HeldCall(
        id=str(call_id), principal=str(principal), chain=tuple(_ordered_strings(chain)),
        action=str(action), resource=str(resource), summary=texts,
        created_at=float(created_at), expires_at=float(expires_at), status=HeldStatus(status),
        decided_by=None if decided_by is None else str(decided_by),
        decided_at=_optional_float(decided_at), reason=str(reason),
        notify_error=str(notify_error),
    )


def _ordered_strings(text: str) -> list[str]:
    values = orjson.loads(text)
    if not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
        raise TypeError("expected a JSON list of strings")
    return values


# --- Risk monitoring: cursor, state blobs, alerts, deliveries ----------------------------------

_UPSERT_ALERT = """
    INSERT INTO risk_alerts (alert_id, principal, level, score, status, raised_at, updated_at,
        revision, indicators_json, evidence_json, closed_by, closed_at, close_reason)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (alert_id) DO UPDATE SET level = excluded.level, score = excluded.score,
        status = excluded.status, updated_at = excluded.updated_at, revision = excluded.revision,
        indicators_json = excluded.indicators_json, evidence_json = excluded.evidence_json,
        closed_by = excluded.closed_by, closed_at = excluded.closed_at,
        close_reason = excluded.close_reason
    WHERE risk_alerts.status = 'open' AND excluded.revision > risk_alerts.revision
"""
_SELECT_ALERTS = (
    "SELECT alert_id, principal, level, score, status, raised_at, updated_at, revision,"
    " indicators_json, evidence_json, closed_by, closed_at, close_reason FROM risk_alerts"
)
_INSERT_DELIVERY = """
    INSERT INTO alert_deliveries (alert_id, revision, sink, status, attempts, next_at,
        last_error, updated_at)
    SELECT ?,?,?,?,?,?,?,? WHERE EXISTS (
        SELECT 1 FROM risk_alerts WHERE alert_id = ? AND revision = ?)
    ON CONFLICT (alert_id, revision, sink) DO NOTHING
"""
_SELECT_DELIVERIES = (
    "SELECT alert_id, revision, sink, status, attempts, next_at, last_error, updated_at"
    " FROM alert_deliveries"
)


class SqliteMonitorStore(_Connected):
    """The risk monitor's store. ``save_monitor`` is one transaction whose compare-and-set on
    the cursor runs under SQLite's write lock, so two monitors never both count an event."""

    def monitor_checkpoint(self) -> MonitorCheckpoint:
        with self._lock, _translated():
            cursor = self._conn.execute("SELECT seq FROM monitor_cursor").fetchone()[0]
            rows = self._conn.execute("SELECT scope, key, state FROM monitor_state").fetchall()
        blobs: dict[str, dict[str, bytes]] = {"principal": {}, "group": {}}
        for scope, key, state in rows:
            blobs.setdefault(str(scope), {})[str(key)] = bytes(state)
        return MonitorCheckpoint(int(cursor), blobs["principal"], blobs["group"])

    def save_monitor(self, save: MonitorSave) -> None:
        states = [("principal", k, v) for k, v in save.principals.items()]
        states += [("group", k, v) for k, v in save.groups.items()]
        with self._transaction() as conn:
            moved = conn.execute("UPDATE monitor_cursor SET seq = ? WHERE seq = ?",
                                 (save.cursor, save.expected_cursor)).rowcount
            if moved != 1:
                raise CursorMoved(f"monitor cursor is not {save.expected_cursor}")
            conn.executemany("INSERT OR REPLACE INTO monitor_state VALUES (?,?,?)", states)
            conn.executemany(_UPSERT_ALERT, [_alert_row(a) for a in save.alerts])
            for d in save.deliveries:
                conn.execute(
                    "DELETE FROM alert_deliveries WHERE alert_id = ? AND sink = ?"
                    " AND revision < ? AND status = 'pending'"
                    " AND EXISTS (SELECT 1 FROM risk_alerts WHERE alert_id = ? AND revision = ?)",
                    (d.alert_id, d.sink, d.revision, d.alert_id, d.revision))
                conn.execute(_INSERT_DELIVERY, (*_delivery_row(d), d.alert_id, d.revision))

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        found = self._alerts(" WHERE alert_id = ?", (alert_id,))
        return found[0] if found else None

    def list_alerts(self, status: AlertStatus | None = None, limit: int = 100
                    ) -> list[AlertRecord]:
        order = " ORDER BY raised_at DESC, alert_id DESC LIMIT ?"
        if status is None:
            return self._alerts(order, (max(0, limit),))
        return self._alerts(" WHERE status = ?" + order, (status.value, max(0, limit)))

    def close_alert(self, alert_id: str, status: AlertStatus, by: str, reason: str,
                    at: float) -> AlertRecord | None:
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE risk_alerts SET status = ?, closed_by = ?, closed_at = ?,"
                " close_reason = ?, updated_at = ? WHERE alert_id = ? AND status = 'open'",
                (status.value, by, at, reason, at, alert_id)).rowcount
        return self.get_alert(alert_id) if changed == 1 else None

    def _alerts(self, where: str, params: Sequence[object]) -> list[AlertRecord]:
        with self._lock, _translated():
            rows = self._conn.execute(_SELECT_ALERTS + where, params).fetchall()
        return [_decoded(_alert_from_row, row) for row in rows]

    def pending_deliveries(self, now: float, limit: int) -> list[AlertDelivery]:
        return self._deliveries(
            " WHERE status = 'pending' AND next_at <= ?"
            " ORDER BY next_at, alert_id, revision, sink LIMIT ?", (now, max(0, limit)))

    def record_delivery(self, delivery: AlertDelivery) -> None:
        d = delivery
        with self._transaction() as conn:
            conn.execute(
                "UPDATE alert_deliveries SET status = ?, attempts = ?, next_at = ?,"
                " last_error = ?, updated_at = ? WHERE alert_id = ? AND revision = ? AND sink = ?",
                (d.status.value, d.attempts, d.next_at, d.last_error, d.updated_at, d.alert_id,
                 d.revision, d.sink))

    def deliveries(self, alert_id: str) -> list[AlertDelivery]:
        return self._deliveries(" WHERE alert_id = ? ORDER BY revision, sink", (alert_id,))

    def _deliveries(self, where: str, params: Sequence[object]) -> list[AlertDelivery]:
        with self._lock, _translated():
            rows = self._conn.execute(_SELECT_DELIVERIES + where, params).fetchall()
        return [_decoded(_delivery_from_row, row) for row in rows]


def _alert_row(a: AlertRecord) -> _Row:
    evidence = [{"seq": e.seq, "event_id": e.event_id, "time": e.time, "action": e.action,
                 "resource": e.resource, "decision": e.decision, "points": dict(e.points),
                 "topics": list(e.topics)} for e in a.evidence]
    return (a.alert_id, a.principal, a.level.value, a.score, a.status.value, a.raised_at,
            a.updated_at, a.revision, orjson.dumps(dict(a.indicators)).decode(),
            orjson.dumps(evidence).decode(), a.closed_by, a.closed_at, a.close_reason)


def _alert_from_row(row: _Row) -> AlertRecord:
    (alert_id, principal, level, score, status, raised_at, updated_at, revision, indicators,
     evidence, closed_by, closed_at, close_reason) = row
    return AlertRecord(
        alert_id=str(alert_id), principal=str(principal), level=RiskLevel(level),
        score=float(score), status=AlertStatus(status), raised_at=float(raised_at),
        updated_at=float(updated_at), revision=int(revision),
        indicators=_points(orjson.loads(indicators)),
        evidence=tuple(_evidence(item) for item in orjson.loads(evidence)),
        closed_by=str(closed_by), closed_at=_optional_float(closed_at),
        close_reason=str(close_reason),
    )


def _evidence(item: Any) -> AlertEvidence:
    if not isinstance(item, dict) or not item.keys() >= _EVIDENCE_FIELDS:
        raise TypeError("evidence is not a JSON object with every field")
    return AlertEvidence(int(item["seq"]), str(item["event_id"]), float(item["time"]),
                         str(item["action"]), str(item["resource"]), str(item["decision"]),
                         _points(item["points"]), _texts(item["topics"]))


_EVIDENCE_FIELDS = frozenset({"seq", "event_id", "time", "action", "resource", "decision",
                              "points", "topics"})


def _texts(value: Any) -> tuple[str, ...]:
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise TypeError("expected a JSON list of strings")
    return tuple(value)


def _points(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise TypeError("points are not a JSON object")
    return {str(k): float(v) for k, v in value.items()}


def _delivery_row(d: AlertDelivery) -> _Row:
    return (d.alert_id, d.revision, d.sink, d.status.value, d.attempts, d.next_at, d.last_error,
            d.updated_at)


def _delivery_from_row(row: _Row) -> AlertDelivery:
    alert_id, revision, sink, status, attempts, next_at, last_error, updated_at = row
    return AlertDelivery(str(alert_id), int(revision), str(sink), DeliveryStatus(status),
                         int(attempts), float(next_at), str(last_error), float(updated_at))

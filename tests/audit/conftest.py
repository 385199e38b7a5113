"""Fixtures for the audit tests: the anyio backend, a signing key, SQLite stores on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ztai.audit.signing import CheckpointSigner, generate_key_file
from ztai.storage.sqlite import SqliteAuditStore


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def signer(tmp_path: Path) -> CheckpointSigner:
    return generate_key_file(tmp_path / "audit.key")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[SqliteAuditStore]:
    store = SqliteAuditStore(db_path)
    yield store
    store.close()

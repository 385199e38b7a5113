"""Every backend the contract suite runs against. A new backend adds one branch here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ztai.storage.interface import ApprovalStore, AuditStore, ControlStore, KeyStore
from ztai.storage.memory import (
    MemoryApprovalStore,
    MemoryAuditStore,
    MemoryControlStore,
    MemoryKeyStore,
)
from ztai.storage.sqlite import (
    SqliteApprovalStore,
    SqliteAuditStore,
    SqliteControlStore,
    SqliteKeyStore,
)

BACKENDS = ["memory", "sqlite"]


@pytest.fixture(params=BACKENDS)
def key_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield MemoryKeyStore()
    else:
        with closing(SqliteKeyStore(tmp_path / "keys.db")) as store:
            yield store


@pytest.fixture(params=BACKENDS)
def audit_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    if request.param == "memory":
        yield MemoryAuditStore()
    else:
        with closing(SqliteAuditStore(tmp_path / "audit.db")) as store:
            yield store


@pytest.fixture(params=BACKENDS)
def control_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ControlStore]:
    if request.param == "memory":
        yield MemoryControlStore()
    else:
        with closing(SqliteControlStore(tmp_path / "control.db")) as store:
            yield store


@pytest.fixture(params=BACKENDS)
def approval_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApprovalStore]:
    if request.param == "memory":
        yield MemoryApprovalStore()
    else:
        with closing(SqliteApprovalStore(tmp_path / "approvals.db")) as store:
            yield store

"""Fixtures for the policy tests: the bundled schema and an empty policy directory."""

from __future__ import annotations

import itertools
from pathlib import Path

import cedarpy
import pytest

from ztai.policy.bundled import load_schema

from .support import PolicyDir


@pytest.fixture(scope="session")
def schema() -> cedarpy.Schema:
    return load_schema()


@pytest.fixture
def policy_dir(tmp_path: Path) -> PolicyDir:
    folder = tmp_path / "policies"
    folder.mkdir()
    return PolicyDir(folder, itertools.count(1_700_000_000 * 10**9, 10**9))

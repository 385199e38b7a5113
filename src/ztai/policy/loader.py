"""Read a directory's ``*.cedar`` files (sorted by name) into a validated policy set.

An empty directory is valid and denies everything (default deny). Files may change or vanish
while they are read; that becomes a problem to report, never a partial policy set.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import cedarpy

from ztai.policy.compiler import PolicyLoadError, compile_policies
from ztai.policy.model import Fingerprint, LoadedPolicies, PolicyProblem

POLICY_SUFFIX = ".cedar"
MAX_FILE_BYTES = 1 << 20


def fingerprint(directory: Path) -> Fingerprint:
    """(name, mtime_ns, size) of each policy file; raises ``OSError`` if the directory cannot be
    read. A file that vanishes while it is looked at is left out: it is gone."""
    rows: list[tuple[str, int, int]] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if not _is_policy_name(entry.name):
                continue
            try:
                if entry.is_file():
                    info = entry.stat()
                    rows.append((entry.name, info.st_mtime_ns, info.st_size))
            except FileNotFoundError:
                continue
    return tuple(sorted(rows))


def load_policies(directory: Path, schema: cedarpy.Schema) -> LoadedPolicies:
    """Load and validate every policy file; raises ``PolicyLoadError`` with all problems found."""
    try:
        seen = fingerprint(directory)
    except OSError as exc:
        problem = PolicyProblem(str(directory), f"cannot read policy directory: {exc.strerror}")
        raise PolicyLoadError((problem,)) from exc
    texts, problems = _read_all(directory, [name for name, _, _ in seen])
    if problems:
        raise PolicyLoadError(tuple(problems))
    loaded = compile_policies(texts, schema)
    return dataclasses.replace(loaded, directory=directory, fingerprint=seen)


def not_loaded(directory: Path) -> list[str]:
    """What in ``directory`` looks meant as policy but is not read: folders (not descended
    into) and names ending in ``.cedar`` in another case. Before 2026-11-28 a policy in a
    subfolder or named ``deny.CEDAR`` was left out without a word. Other files (a README, a
    ``.cedar.disabled`` copy) are left out on purpose and not listed."""
    notes = []
    try:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    notes.append(f"{entry.name}/: folders are not read; only the *{POLICY_SUFFIX}"
                                 " files directly in the policy directory are")
                elif entry.name.lower().endswith(POLICY_SUFFIX) \
                        and not _is_policy_name(entry.name):
                    notes.append(f"{entry.name}: not read; policy files end in "
                                 f"{POLICY_SUFFIX!r}, lower case")
    except OSError:
        return []  # load_policies reports an unreadable directory
    return notes


def _is_policy_name(name: str) -> bool:
    return name.endswith(POLICY_SUFFIX) and not name.startswith(".")


def _read_all(directory: Path, names: list[str]) -> tuple[dict[str, str], list[PolicyProblem]]:
    texts: dict[str, str] = {}
    problems: list[PolicyProblem] = []
    for name in names:
        try:
            texts[name] = _read(directory / name)
        except (OSError, ValueError) as exc:  # ValueError includes UnicodeDecodeError
            problems.append(PolicyProblem(name, f"cannot read: {exc}"))
    return texts, problems


def _read(path: Path) -> str:
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
    return data.decode("utf-8")

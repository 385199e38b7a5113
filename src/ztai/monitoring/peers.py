"""Peer groups from the directory: a principal's peer group is the first of the configured
groups it belongs to (by its API keys or its agent registration), kept apart by kind
(``user/finance``, ``agent/finance``); otherwise its kind alone. A principal's group is fixed
when the monitor first sees it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ztai.storage.interface import AgentStore, ControlState, KeyStore


class Directory(AgentStore, ControlState, Protocol):
    """The part of the control store peer groups read."""


class DirectoryGroups:
    def __init__(self, order: Sequence[str], keys: KeyStore, agents: Directory) -> None:
        self._order, self._keys, self._agents = tuple(order), keys, agents
        self._versions: tuple[int, int] | None = None
        self._members: dict[str, frozenset[str]] = {}

    def __call__(self, principal: str, kind: str) -> str:
        groups = self._groups_of(principal)
        for group in self._order:
            if group in groups:
                return f"{kind}/{group}"
        return kind

    def _groups_of(self, principal: str) -> frozenset[str]:
        if principal not in self._members:
            versions = (self._keys.keys_version(), self._agents.control_version())
            if versions != self._versions:
                self._members, self._versions = self._read(), versions
        return self._members.get(principal, frozenset())

    def _read(self) -> dict[str, frozenset[str]]:
        members: dict[str, frozenset[str]] = {}
        for key in self._keys.list_keys():
            ref = f"{key.kind.value}:{key.principal}"
            members[ref] = members.get(ref, frozenset()) | key.groups
        for agent in self._agents.list_agents():
            ref = f"agent:{agent.agent_id}"
            members[ref] = members.get(ref, frozenset()) | agent.groups
        return members

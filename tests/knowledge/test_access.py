"""Principal refs: what ACLs may name (checked exactly, never normalised into something else),
and the refs a principal reads as."""

from __future__ import annotations

import pytest

from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.knowledge.access import Reader, parse_owner, parse_ref, refs_for
from ztai.knowledge.interface import InvalidDocument

from .support import ALL


@pytest.mark.parametrize("ref", ["everyone", "user:alice", "group:Project Obsidian",
                                 "agent:mailbot", "service:indexer", "user:a@b.example"])
def test_valid_refs(ref: str) -> None:
    assert parse_ref(ref) == ref


@pytest.mark.parametrize("ref", ["Everyone", "alice", "user:", "user: alice", "role:admin",
                                 "group:x\n", "user:" + "a" * 300, 7, None, ""])
def test_invalid_refs(ref: object) -> None:
    with pytest.raises(InvalidDocument):
        parse_ref(ref)


def test_owners_are_users() -> None:
    assert parse_owner(None) is None
    assert parse_owner("user:olga") == "user:olga"
    with pytest.raises(InvalidDocument, match="owner must be"):
        parse_owner("agent:mailbot")


@pytest.mark.parametrize(("kind", "expected"), [
    (PrincipalKind.USER, {"everyone", "user:alice", "group:obsidian", "group:staff"}),
    (PrincipalKind.AGENT, {"everyone", "agent:alice", "group:obsidian", "group:staff"}),
])
def test_refs_for_a_principal(kind: PrincipalKind, expected: set[str]) -> None:
    principal = Principal(PrincipalId("alice"), kind, frozenset({"obsidian", "staff"}))
    assert refs_for(principal) == expected


def test_a_single_string_is_not_a_set_of_refs() -> None:
    with pytest.raises(TypeError):
        Reader.of("user:alice", ALL)

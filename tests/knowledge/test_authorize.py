"""The authorization API for RAG apps with their own vector store: candidate ids and a reader
in, the permitted subset with labels out, in the order asked; the rest with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ztai.core.errors import BadRequest
from ztai.knowledge.access import Reader
from ztai.knowledge.authorize import MAX_CANDIDATES
from ztai.knowledge.index import KnowledgeIndex
from ztai.knowledge.model import DenialReason

from .support import ALL, doc, reader


@pytest.fixture
def index(tmp_path: Path) -> Iterator[KnowledgeIndex]:
    with KnowledgeIndex.create(tmp_path / "i") as built:
        built.upsert([
            doc("plan", "obsidian plan", "group:obsidian", owner="user:olga",
                label="Confidential", title="Obsidian plan"),
            doc("memo", "cafeteria memo", "everyone", label="General", title="Memo"),
            doc("keys", "vault keys", "group:obsidian", label="Highly Confidential"),
            doc("draft", "unlabelled draft", "user:adele"),
        ])
        yield built


@pytest.mark.parametrize(("who", "permitted", "denied"), [
    (reader("everyone", "user:adele"), ["memo", "draft"],
     {"plan": DenialReason.NO_ACCESS, "keys": DenialReason.NO_ACCESS,
      "gone": DenialReason.UNKNOWN}),
    (reader("everyone", "group:obsidian", up_to="Confidential"), ["plan", "memo"],
     {"keys": DenialReason.LABEL, "draft": DenialReason.NO_ACCESS,
      "gone": DenialReason.UNKNOWN}),
    (reader("user:olga"), ["plan"],
     {"memo": DenialReason.NO_ACCESS, "keys": DenialReason.NO_ACCESS,
      "draft": DenialReason.NO_ACCESS, "gone": DenialReason.UNKNOWN}),
    (Reader((frozenset({"group:obsidian"}), frozenset({"user:olga"})), ALL), ["plan"],
     {"memo": DenialReason.NO_ACCESS, "keys": DenialReason.NO_ACCESS,
      "draft": DenialReason.NO_ACCESS, "gone": DenialReason.UNKNOWN}),
])
def test_the_permitted_subset_in_order(index: KnowledgeIndex, who: Reader,
                                       permitted: list[str],
                                       denied: dict[str, DenialReason]) -> None:
    answer = index.authorize(["plan", "memo", "keys", "draft", "gone"], who)
    assert [p.document for p in answer.permitted] == permitted
    assert dict(answer.denied) == denied


def test_permitted_documents_carry_label_and_title(index: KnowledgeIndex) -> None:
    answer = index.authorize(["memo"], reader("everyone"))
    assert [(p.label, p.title) for p in answer.permitted] == [("General", "Memo")]


def test_deleted_documents_are_unknown_at_once(index: KnowledgeIndex) -> None:
    index.delete(["memo"])
    assert index.authorize(["memo"], reader("everyone")).denied == (
        ("memo", DenialReason.UNKNOWN),)


@pytest.mark.parametrize("ids", [["a"] * (MAX_CANDIDATES + 1), [1]])
def test_bad_candidate_lists_are_refused(index: KnowledgeIndex, ids: list[object]) -> None:
    with pytest.raises(BadRequest):
        index.authorize(ids, reader("everyone"))  # type: ignore[arg-type]

"""Search filters by permission inside the search: the top k is exact over what the reader may
read (no starvation, however little that is), scores are those of an index holding only those
documents (nothing leaks through statistics), and deletes, permission and label changes apply
to the very next search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ztai.core.errors import BadRequest
from ztai.knowledge.access import LabelCeiling, Reader
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.model import Document, Hit
from ztai.knowledge.search import SearchMode

from .support import ALL, LABELS, HashingEmbedder, doc, reader

CORPUS_SIZE = 2000


def corpus() -> list[Document]:
    """2,000 one-chunk documents that all mention "battery". Department 0 (1% of them) gets
    the *weakest* matches (one mention in a long text), so an unfiltered top 100 holds none."""
    documents = []
    for n in range(CORPUS_SIZE):
        department = n % 100
        if department == 0:
            text = f"battery report {n} " + " ".join(f"filler{n}x{i}" for i in range(60))
        else:
            text = f"battery battery cell chemistry note {n} battery " + f"dept{department} " * 3
        documents.append(doc(f"d{n:04d}", text, f"group:dept-{department:02d}",
                             "group:auditors", label=LABELS[n % 4]))
    return documents


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeIndex]:
    with KnowledgeIndex.build(tmp_path_factory.mktemp("k") / "index", corpus()) as built:
        yield built


def test_a_reader_of_one_percent_still_gets_k_results(index: KnowledgeIndex) -> None:
    unfiltered = index.search("battery", reader("group:auditors"), k=100, mode=SearchMode.BM25)
    assert not any(h.citation.document.endswith("00") for h in unfiltered[:100]), \
        "precondition: search-then-filter with k'=100 would starve this reader"
    one_percent = reader("user:adele", "group:dept-00")
    hits = index.search("battery", one_percent, k=10, mode=SearchMode.BM25)
    assert len(hits) == 10
    assert all(int(h.citation.document[1:]) % 100 == 0 for h in hits)
    assert len({h.citation.document for h in hits}) == 10


@pytest.mark.parametrize("refs", [
    ("group:dept-00",),  # 1%: probes postings with the visible chunks
    ("group:dept-00", "group:dept-01", "group:dept-02", "group:dept-03", "group:dept-04",
     "group:dept-05", "group:dept-06", "group:dept-07", "group:dept-08", "group:dept-09",
     "group:dept-10", "group:dept-11", "group:dept-12", "group:dept-13", "group:dept-14",
     "group:dept-15", "group:dept-16", "group:dept-17", "group:dept-18", "group:dept-19",
     "group:dept-20", "group:dept-21", "group:dept-22", "group:dept-23", "group:dept-24",
     "group:dept-25", "group:dept-26", "group:dept-27", "group:dept-28", "group:dept-29"),  # 30%
    ("group:auditors",),  # everything
])
@pytest.mark.parametrize("up_to", ["Highly Confidential", "General"])
def test_results_equal_an_index_of_only_the_readable_documents(
        index: KnowledgeIndex, tmp_path: Path, refs: tuple[str, ...], up_to: str) -> None:
    who = reader(*refs, up_to=up_to)
    ceiling = LabelCeiling(LABELS, up_to)
    readable = [d for d in corpus() if not who.parties[0].isdisjoint(d.acl) and ceiling(d.label)]
    with KnowledgeIndex.build(tmp_path / "alone", readable) as alone:
        for query in ("battery", "battery chemistry dept7", "report filler0x1", "dept7 cell"):
            got = index.search(query, who, k=25, mode=SearchMode.BM25)
            expected = alone.search(query, reader("group:auditors", *refs), k=25,
                                    mode=SearchMode.BM25)
            assert got or query == "dept7 cell", "these queries match readable chunks"
            assert [h.citation for h in got] == [h.citation for h in expected]
            assert [h.score for h in got] == pytest.approx([h.score for h in expected],
                                                           rel=1e-5)


def test_hits_carry_labels_and_citations(index: KnowledgeIndex) -> None:
    hits = index.search("filler100x3", reader("group:dept-00"), k=3)
    assert len(hits) == 1
    hit = hits[0]
    assert hit.citation.document == "d0100"
    assert (hit.citation.chunk, hit.citation.start) == (0, 0)
    assert hit.citation.end == len(hit.text)
    assert hit.label == LABELS[100 % 4]
    assert "filler100x3" in hit.text


def test_label_ceiling_is_applied_inside_the_search(index: KnowledgeIndex) -> None:
    public_only = index.search("battery", reader("group:auditors", up_to="Public"), k=50)
    assert len(public_only) == 50
    assert {h.label for h in public_only} == {"Public"}
    nothing = Reader.of({"group:auditors"}, LabelCeiling(LABELS, None, allow_unlabelled=True))
    assert index.search("battery", nothing, k=5) == []


def test_a_clearance_that_answers_anything_but_true_denies(index: KnowledgeIndex) -> None:
    sloppy = Reader.of({"group:auditors"}, lambda label: 1)  # type: ignore[arg-type,return-value]
    assert index.search("battery", sloppy, k=5) == []


def test_unknown_labels_are_above_any_ceiling() -> None:
    ceiling = LabelCeiling(LABELS, "Highly Confidential")
    assert ceiling("Top Secret (unmapped)") is False
    assert LabelCeiling(LABELS, "General", allow_unlabelled=False)(None) is False
    with pytest.raises(ValueError, match="unknown label"):
        LabelCeiling(LABELS, "Secret")


def test_every_party_of_a_delegation_must_be_able_to_read(index: KnowledgeIndex) -> None:
    agent_for_adele = Reader((frozenset({"group:dept-00"}), frozenset({"group:auditors"})), ALL)
    assert len(index.search("battery", agent_for_adele, k=30)) == 20
    disjoint = Reader((frozenset({"group:dept-00"}), frozenset({"group:dept-01"})), ALL)
    assert index.search("battery", disjoint, k=10) == []


@pytest.mark.parametrize("parties", [(), (frozenset(),)])
def test_a_reader_without_refs_is_refused(parties: tuple[frozenset[str], ...]) -> None:
    with pytest.raises(ValueError, match="at least one party"):
        Reader(parties, ALL)


@pytest.mark.parametrize(("query", "k"), [("x" * 20_000, 10), ("battery", 0), ("battery", 5000)])
def test_bad_queries_are_refused(index: KnowledgeIndex, query: str, k: int) -> None:
    with pytest.raises(BadRequest):
        index.search(query, reader("group:auditors"), k=k)


def test_vector_mode_needs_vectors(index: KnowledgeIndex) -> None:
    with pytest.raises(BadRequest, match="no vectors"):
        index.search("battery", reader("group:auditors"), mode=SearchMode.VECTOR)


def test_deletes_and_permission_changes_apply_to_the_next_search(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("plan", "obsidian launch plan", "group:obsidian", owner="user:olga"),
                      doc("memo", "obsidian cafeteria memo", "everyone")])
        adele, olga = reader("everyone", "user:adele"), reader("everyone", "user:olga")
        assert _ids(index, adele) == ["memo"]
        assert _ids(index, olga) == ["plan", "memo"]  # the owner reads her document
        assert index.set_acl("plan", ["group:obsidian", "user:adele"], "user:olga")
        assert _ids(index, adele) == ["plan", "memo"]
        assert index.set_acl("plan", ["group:obsidian"], None)
        assert _ids(index, adele) == ["memo"]
        assert _ids(index, olga) == ["memo"]  # no longer the owner
        assert index.delete(["memo", "never-there"]) == ["memo"]
        assert _ids(index, adele) == []
        assert not index.set_acl("memo", ["everyone"], None)


def test_relabelling_applies_to_the_next_search(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("plan", "obsidian launch plan", "everyone", label="General")])
        general = reader("everyone", up_to="General")
        assert _ids(index, general) == ["plan"]
        index.upsert([doc("plan", "obsidian launch plan", "everyone", label="Confidential")])
        assert _ids(index, general) == []


def test_hybrid_search_is_filtered_too(tmp_path: Path) -> None:
    documents = corpus()[:400]
    with KnowledgeIndex.build(tmp_path / "v", documents, options=Options(
            embedder=HashingEmbedder())) as index:
        everyone = _hybrid_checks(index)
    with KnowledgeIndex.open(tmp_path / "v", Options(embedder=HashingEmbedder())) as reopened:
        assert [h.citation for h in reopened.search("battery chemistry dept7",
                                                    reader("group:auditors"), k=5)] == \
            [h.citation for h in everyone]


def _hybrid_checks(index: KnowledgeIndex) -> list[Hit]:
    one_percent = reader("group:dept-00")
    for mode in (SearchMode.HYBRID, SearchMode.VECTOR):
        hits = index.search("battery chemistry", one_percent, k=10, mode=mode)
        assert len(hits) == 4  # all the department holds
        assert all(int(h.citation.document[1:]) % 100 == 0 for h in hits)
    everyone = index.search("battery chemistry dept7", reader("group:auditors"), k=5)
    assert everyone[0].citation.document.endswith("7")
    return everyone


def _ids(index: KnowledgeIndex, who: Reader) -> list[str]:
    return [h.citation.document for h in index.search("obsidian", who, k=10)]

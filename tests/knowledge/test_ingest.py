"""Incremental indexing: unchanged documents cost nothing, a permission or metadata change is
applied without re-tokenising or re-classifying, changed text is re-indexed; the injected
classifier labels documents (never below the source's label); bad documents are refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.interface import InvalidDocument
from ztai.knowledge.model import Change, Classification, Document, DocumentId

from .support import CountingClassifier, doc, reader


def test_only_what_changed_is_redone(tmp_path: Path) -> None:
    classifier = CountingClassifier()
    with KnowledgeIndex.create(tmp_path / "i", options=Options(classifier=classifier)) as index:
        first = [doc("a", "alpha text", "everyone"), doc("b", "beta text", "group:g")]
        assert [c for _, c in index.upsert(first)] == [Change.ADDED, Change.ADDED]
        chunks_before = index.stats().unmerged_chunks
        assert [c for _, c in index.upsert(first)] == [Change.UNCHANGED, Change.UNCHANGED]
        moved = [replace(first[0], acl=frozenset({"group:g"}), title="Alpha"), first[1]]
        assert [c for _, c in index.upsert(moved)] == [Change.METADATA, Change.UNCHANGED]
        assert index.stats().unmerged_chunks == chunks_before  # no new chunks
        assert classifier.seen == ["alpha text", "beta text"]  # not classified again
        rewritten = [replace(first[1], text="beta text, second edition")]
        assert [c for _, c in index.upsert(rewritten)] == [Change.UPDATED]
        assert classifier.seen[-1] == "beta text, second edition"
        record = index.record("a")
        assert record is not None
        assert (record.acl, record.title) == (frozenset({"group:g"}), "Alpha")
        assert [h.citation.document for h in index.search("alpha", reader("everyone"))] == []


def test_the_same_id_twice_in_one_call_keeps_the_last(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        changes = index.upsert([doc("a", "first", "everyone"), doc("a", "second", "everyone"),
                                doc("a", "second", "group:g")])
        assert [c for _, c in changes] == [Change.ADDED, Change.UPDATED, Change.METADATA]
        assert index.search("first", reader("group:g")) == []
        assert len(index.search("second", reader("group:g"))) == 1
        assert index.stats().documents == 1


def test_the_classifier_labels_and_fingerprints(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i",
                               options=Options(classifier=CountingClassifier())) as index:
        index.upsert([doc("s", "the secret key", "everyone", label="General"),
                      doc("p", "plain words", "everyone", label="General")])
        secret, plain = index.record("s"), index.record("p")
        assert secret is not None
        assert plain is not None
        assert (secret.label, secret.explicit_label) == ("Highly Confidential", "General")
        assert dict(secret.findings) == {"secret.test": 1}
        assert secret.fingerprints == (1, 2, 3)
        assert plain.label == "General"  # a classifier that says None keeps the source's label
        assert index.search("secret", reader("everyone", up_to="Confidential")) == []
        index.upsert([replace(doc("p", "plain words", "everyone"), label="Confidential")])
        relabelled = index.record("p")
        assert relabelled is not None
        assert relabelled.label == "Confidential"


class BadClassifier:
    def __init__(self, found: Classification) -> None:
        self.found = found

    def classify(self, text: str, explicit_label: str | None) -> Classification:
        return self.found


@pytest.mark.parametrize("found", [
    Classification("General", {"pii.email": -1}),
    Classification("General", {}, (-5,)),
    Classification("General", {}, (2**64,)),
])
def test_malformed_classifications_are_refused(tmp_path: Path, found: Classification) -> None:
    with KnowledgeIndex.create(tmp_path / "i", options=Options(
            classifier=BadClassifier(found))) as index, pytest.raises(InvalidDocument):
        index.upsert([doc("a", "text", "everyone")])


@pytest.mark.parametrize(("document", "message"), [
    (doc("a", "text", "User:alice"), "invalid principal ref"),
    (doc("a", "text", "group:"), "invalid principal ref"),
    (doc("a", "text", "group: padded"), "invalid principal ref"),
    (doc("a", "text", "everyone", owner="group:g"), "owner must be"),
    (doc("", "text", "everyone"), "document id"),
    (doc("a\n", "text", "everyone"), "document id"),
    (doc("a", "x" * 1001, "everyone"), "at most 1000 characters"),
    (doc("a", "lone \ud800 surrogate", "everyone"), "not valid Unicode"),
    (Document(DocumentId("a"), "text", ["everyone"], None), "bad ACL"),  # type: ignore[arg-type]
    (doc("a", "text", "everyone", label=""), "label"),
])
def test_bad_documents_are_refused_and_earlier_ones_kept(
        tmp_path: Path, document: Document, message: str) -> None:
    with KnowledgeIndex.create(tmp_path / "i", options=Options(
            max_document_chars=1000)) as index:
        with pytest.raises(InvalidDocument, match=message):
            index.upsert([doc("ok", "fine text", "everyone"), document])
        assert index.record("ok") is not None
        assert index.stats().documents == 1
    with KnowledgeIndex.open(tmp_path / "i") as reopened:  # and it was journaled
        assert reopened.record("ok") is not None


def test_set_acl_checks_refs(tmp_path: Path) -> None:
    with KnowledgeIndex.create(tmp_path / "i") as index:
        index.upsert([doc("a", "text", "everyone")])
        with pytest.raises(InvalidDocument):
            index.set_acl("a", ["admins"], None)
        assert index.record("a") is not None

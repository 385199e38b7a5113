"""ztai's static embedding model: BERT's WordPiece pieces as the source model cuts them, one
mean row per text, words near in meaning near in space, and hybrid search with it that finds
what shares no word with the query yet never shows a chunk the reader may not read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ztai.knowledge.embedding import StaticEmbedder, embedder_for
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.interface import KnowledgeError
from ztai.knowledge.search import SearchMode
from ztai.knowledge.wordpiece import MAX_WORD_CHARS, WordPiece, words

from .support import doc, reader

DATA = Path(__file__).resolve().parents[2] / "src" / "ztai" / "knowledge" / "data"


@pytest.fixture(scope="module")
def model() -> StaticEmbedder:
    return StaticEmbedder.load()


@pytest.fixture(scope="module")
def pieces() -> WordPiece:
    with np.load(DATA / "static_embeddings.npz") as data:
        return WordPiece([str(p) for p in data["vocab"]])


# Ids from the reference tokenizer (transformers' BertTokenizerFast with all-MiniLM-L6-v2's
# vocab.txt, add_special_tokens=False), recorded once.
@pytest.mark.parametrize(("text", "expected"), [
    ("Héllo, world! Don't panic: état-civil 42.5% naïve café 東京 résumé",
     [7592, 1010, 2088, 999, 2123, 1005, 1056, 6634, 1024, 17997, 1011, 2942, 4413, 1012, 1019,
      1003, 15743, 7668, 1879, 1755, 13746]),
    ("unaffable tokenization ##hash", [14477, 20961, 3468, 19204, 3989, 1001, 1001, 23325]),
])
def test_pieces_are_the_source_tokenizers(pieces: WordPiece, text: str,
                                          expected: list[int]) -> None:
    assert pieces.ids(text) == expected
    assert pieces.ids(text) == expected  # remembered words give the same


def test_words_split_at_punctuation_and_drop_controls() -> None:
    # U+200B is a format character: dropped, as BERT drops every control and format character
    assert list(words("a-b\x00c\u200bd, (e)")) == ["a", "-", "bcd", ",", "(", "e", ")"]
    assert list(words("  ")) == []


def test_a_word_too_long_is_unknown(pieces: WordPiece) -> None:
    unknown = 100  # [UNK] in BERT's vocabulary
    assert pieces.ids("a" * (MAX_WORD_CHARS + 1)) == [unknown]
    assert unknown not in pieces.ids("a" * MAX_WORD_CHARS)


def test_rows_are_means_and_empty_texts_are_zero(model: StaticEmbedder) -> None:
    rows = model.embed(["car", "", "!!!", "car car", "the car"])
    assert rows.shape == (5, model.dimension)
    assert rows.dtype == np.float32
    assert not rows[1].any()
    assert rows[2].any()  # punctuation pieces are in the vocabulary
    np.testing.assert_allclose(rows[0], rows[3], rtol=1e-6)
    assert np.array_equal(rows, model.embed(["car", "", "!!!", "car car", "the car"]))


def test_words_near_in_meaning_are_near(model: StaticEmbedder) -> None:
    texts = ["car", "automobile", "banana", "password", "credential", "invoice"]
    rows = model.embed(texts)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    similarity = rows @ rows.T
    assert similarity[0, 1] > similarity[0, 2]
    assert similarity[3, 4] > similarity[3, 5]


def test_the_shipped_model_is_described() -> None:
    card = json.loads((DATA / "static_embeddings.json").read_text())
    assert card["dimension"] == StaticEmbedder.load().dimension
    assert card["vocabulary"] == 30522
    assert "Apache-2.0" in card["source"]


def test_an_index_gets_the_embedder_it_was_built_for() -> None:
    assert embedder_for(None) is None
    assert isinstance(embedder_for(StaticEmbedder.load().dimension), StaticEmbedder)
    with pytest.raises(KnowledgeError, match="rebuild the index"):
        embedder_for(384)


def test_hybrid_search_finds_meaning_and_stays_filtered(tmp_path: Path,
                                                        model: StaticEmbedder) -> None:
    documents = [
        doc("cars", "Servicing your automobile: oil, tyres and brakes every spring.", "everyone"),
        doc("fruit", "Bananas and apples ripen faster side by side.", "everyone"),
        doc("secret-cars", "Automobile fleet leasing terms for the board.", "group:board"),
    ]
    with KnowledgeIndex.build(tmp_path / "i", documents,
                              options=Options(embedder=model)) as index:
        staff = reader("everyone")
        assert index.search("car maintenance", staff, k=3, mode=SearchMode.BM25) == []
        found = [h.citation.document for h in index.search("car maintenance", staff, k=3,
                                                           mode=SearchMode.VECTOR)]
        assert found[0] == "cars"
        assert "secret-cars" not in found
        hybrid = [h.citation.document for h in index.search("car maintenance", staff, k=3)]
        assert hybrid[0] == "cars"
        assert "secret-cars" not in hybrid
        board = [h.citation.document for h in index.search(
            "automobile leasing", reader("everyone", "group:board"), k=1)]
        assert board == ["secret-cars"]
    assert KnowledgeIndex.vector_dimension(tmp_path / "i") == model.dimension

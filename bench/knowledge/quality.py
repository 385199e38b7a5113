"""Retrieval quality of BM25, ztai's static vectors and the hybrid of both, on public framework
texts where each query has one right document (no relevance judgements to make):

- ``atlas-technique``: a MITRE ATLAS technique's name → its description (short queries);
- ``atlas-case``: an ATLAS case study's name → its summary;
- ``nist-statement``: a NIST AI RMF subcategory's statement → its suggested actions;
- ``nist-question``: the subcategory's first transparency question → its suggested actions.

All 334 documents in one index (everyone may read them); for each query set and mode: recall@1,
recall@10 and MRR@10. Deterministic.

    .venv/bin/python bench/knowledge/quality.py [--data ../shared/data] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import yaml

from ztai.knowledge.access import LabelCeiling, Reader
from ztai.knowledge.embedding import StaticEmbedder
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.model import Document, DocumentId
from ztai.knowledge.search import SearchMode

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MODES = (SearchMode.BM25, SearchMode.VECTOR, SearchMode.HYBRID)
K = 10

Queries = list[tuple[str, str]]  # (query, the document it should find)


def load(data: Path) -> tuple[list[Document], dict[str, Queries]]:
    frameworks = data / "frameworks"
    atlas = yaml.safe_load((frameworks / "mitre-atlas" / "dist" / "ATLAS.yaml").read_text())
    matrix = atlas["matrices"][0]
    nist = json.loads((frameworks / "nist-ai-rmf" / "DERIVED_ai_rmf_playbook.json").read_text())
    texts: dict[str, str] = {}
    queries: dict[str, Queries] = {"atlas-technique": [], "atlas-case": [],
                                   "nist-statement": [], "nist-question": []}
    for technique in matrix["techniques"]:
        texts[technique["id"]] = technique["description"]
        queries["atlas-technique"].append((technique["name"], technique["id"]))
    for mitigation in matrix["mitigations"]:
        texts[mitigation["id"]] = mitigation["description"]
    for case in atlas["case-studies"]:
        texts[case["id"]] = case["summary"]
        queries["atlas-case"].append((case["name"], case["id"]))
    for sub in nist:
        texts[sub["id"]] = " ".join(sub["suggested_actions"])
        queries["nist-statement"].append((sub["statement"], sub["id"]))
        if sub["transparency_documentation"]:
            queries["nist-question"].append((sub["transparency_documentation"][0], sub["id"]))
    documents = [Document(DocumentId(key), text, frozenset({"everyone"}), None, key, "bench")
                 for key, text in texts.items()]
    return documents, queries


def score(index: KnowledgeIndex, queries: Queries, mode: SearchMode) -> dict[str, float]:
    reader = Reader.of(("everyone",), LabelCeiling(("Public",), "Public"))
    first = top = reciprocal = 0.0
    for text, wanted in queries:
        found = [h.citation.document for h in index.search(text, reader, k=K, mode=mode)]
        ranked = list(dict.fromkeys(found))  # a document's chunks count once, at the best
        if wanted in ranked:
            rank = ranked.index(wanted) + 1
            first += rank == 1
            top += 1
            reciprocal += 1 / rank
    n = len(queries)
    return {"recall@1": first / n, f"recall@{K}": top / n, f"mrr@{K}": reciprocal / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    documents, queries = load(args.data)
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, KnowledgeIndex.build(
            Path(tmp) / "i", documents, options=Options(embedder=StaticEmbedder.load())) as index:
        for name, asked in queries.items():
            results[name] = {mode.value: score(index, asked, mode) for mode in MODES}
    print(f"{len(documents)} documents; k = {K}")
    print(f"{'queries':<16}{'n':>5}  " + "".join(f"{m.value + ' R@1/R@10/MRR':>26}" for m in MODES))
    for name, by_mode in results.items():
        cells = "".join(
            f"{by_mode[m.value]['recall@1']:>10.3f}{by_mode[m.value][f'recall@{K}']:>8.3f}"
            f"{by_mode[m.value][f'mrr@{K}']:>8.3f}" for m in MODES)
        print(f"{name:<16}{len(queries[name]):>5}  {cells}")
    if args.json:
        args.json.write_text(json.dumps({"documents": len(documents), "k": K,
                                         "queries": {n: len(q) for n, q in queries.items()},
                                         "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Permission-filtered search at scale: build a knowledge index of a million chunks (by
default) from the seeded synthetic corpus in ``corpus.py``, then compare, on the same index,
ztai's search (the permission filter inside the search) with search-then-filter (search as a
reader who sees everything for k' results, then drop what the user may not read).

Reports build time, size on disk, re-open time, and per user class (1%, 10%, 100% of the
chunks visible; and 100% visible but cleared only up to General) the p50/p99 latency of both,
how often search-then-filter starves (returns fewer than k while k were there to find) and how
many results it returns. Results go to bench/results/knowledge.md and .json.

    .venv/bin/python bench/knowledge/run.py                 # ~1M chunks, a few minutes
    .venv/bin/python bench/knowledge/run.py --chunks 50000  # quick
    .venv/bin/python bench/knowledge/run.py --vectors --out knowledge-vectors
        # with ztai's static vectors: hybrid search (BM25 + vectors, RRF) timed as well
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# numpy's BLAS on the calling thread, as `ztai serve` runs it (src/ztai/cli/__init__.py)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from corpus import AUDITORS, LABELS, Corpus

from ztai.knowledge.access import LabelCeiling, Reader
from ztai.knowledge.embedding import StaticEmbedder
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.knowledge.ingest import IndexSettings
from ztai.knowledge.model import Hit
from ztai.knowledge.search import SearchMode

RESULTS = Path(__file__).parent.parent / "results"
ALL = LabelCeiling(LABELS, "Highly Confidential")
USERS = {
    "1%": Reader.of({"everyone", "user:bench-1", "group:dept-000"}, ALL),
    "10%": Reader.of({"everyone", "user:bench-10",
                      *(f"group:dept-{d:03d}" for d in range(10))}, ALL),
    "100%": Reader.of({"everyone", "user:auditor", AUDITORS}, ALL),
    "100%, ≤ General": Reader.of({"everyone", "user:auditor", AUDITORS},
                                 LabelCeiling(LABELS, "General")),
}
UNFILTERED = USERS["100%"]


@dataclass
class Timing:
    samples: list[float]

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.samples)
        return {"p50_ms": round(statistics.median(ordered) * 1e3, 3),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
                                3),
                "mean_ms": round(statistics.fmean(ordered) * 1e3, 3)}


def timed(action: Callable[[], list[Hit]]) -> tuple[list[Hit], float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def search_then_filter(index: KnowledgeIndex, query: str, reader: Reader, k: int,
                       depth: int) -> list[Hit]:
    hits = index.search(query, UNFILTERED, k=depth, mode=SearchMode.BM25)
    allowed = index.authorize(list(dict.fromkeys(h.citation.document for h in hits)), reader)
    permitted = {p.document for p in allowed.permitted}
    return [h for h in hits if h.citation.document in permitted][:k]


def measure(index: KnowledgeIndex, queries: list[str], k: int, depths: list[int],
            hybrid: bool = False) -> dict[str, object]:
    report: dict[str, object] = {}
    for name, reader in USERS.items():
        for query in queries[:5]:  # warm the page cache and numpy
            index.search(query, reader, k=k, mode=SearchMode.BM25)
        exact = [timed(lambda q=q, r=reader: index.search(q, r, k=k, mode=SearchMode.BM25))
                 for q in queries]
        entry: dict[str, object] = {
            "filtered": Timing([t for _, t in exact]).summary(),
            "filtered_full_k": sum(len(h) == k for h, _ in exact) / len(queries),
        }
        if hybrid:
            for query in queries[:5]:
                index.search(query, reader, k=k, mode=SearchMode.HYBRID)
            fused = [timed(lambda q=q, r=reader: index.search(q, r, k=k,
                                                                mode=SearchMode.HYBRID))
                     for q in queries]
            entry["hybrid"] = Timing([t for _, t in fused]).summary()
            entry["hybrid_full_k"] = sum(len(h) == k for h, _ in fused) / len(queries)
        for depth in depths:
            post = [timed(lambda q=q, r=reader, d=depth: search_then_filter(index, q, r, k, d))
                    for q in queries]
            starved = sum(len(p) < min(k, len(e)) for (p, _), (e, _) in zip(post, exact,
                                                                           strict=True))
            entry[f"search_then_filter_k{depth}"] = {
                **Timing([t for _, t in post]).summary(),
                "starved": round(starved / len(queries), 4),
                "mean_results": round(statistics.fmean(len(p) for p, _ in post), 2),
            }
        report[name] = entry
        print(name, json.dumps(entry), flush=True)
    return report


PARTS = {"inverted index (postings, frequencies, offsets, terms)":
         ("postings", "freqs", "offsets", "terms"),
         "chunk texts": ("text",),
         "chunk table (document, length, position, span, text offsets)":
         ("doc", "length", "ordinal", "span", "text_offsets"),
         "document records (ACL, owner, label, ...)": ("docs",),
         "vectors (float32, 128 wide)": ("vectors",)}


def size_breakdown(index_dir: Path) -> dict[str, int]:
    snapshot = next(index_dir.glob("snap-*"))
    sizes = {p.name.split(".")[0]: p.stat().st_size for p in snapshot.iterdir()}
    parts = {part: sum(sizes.get(name, 0) for name in names) for part, names in PARTS.items()}
    return {part: size for part, size in parts.items() if size}


def status_mb(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return -1


def probe(index_dir: Path, count: int) -> None:
    """In a fresh process: open the index read-only, as a gateway would, run the queries for
    every user, print the open time and the memory the index holds (private, above what the
    process held before opening it, vs. mapped index files)."""
    queries = Corpus.make().queries(count, seed=11)
    private, mapped = status_mb("RssAnon"), status_mb("RssFile")
    started = time.perf_counter()
    index = KnowledgeIndex.open(index_dir)
    opened = time.perf_counter() - started
    for query in queries:
        for reader in USERS.values():
            index.search(query, reader, k=10, mode=SearchMode.BM25)
    print(json.dumps({"open_s": round(opened, 2), "private_mb": status_mb("RssAnon") - private,
                      "mapped_files_mb": status_mb("RssFile") - mapped}))


def visibility(index: KnowledgeIndex) -> dict[str, float]:
    records = index.records()
    total = sum(r.chunks for r in records)
    shares = {}
    for name, reader in USERS.items():
        seen = sum(r.chunks for r in records if reader.may_read(r.readers)
                   and reader.clearance(r.label))
        shares[name] = round(seen / total, 4)
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--chunk-chars", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None, help="where to build (kept)")
    parser.add_argument("--out", default="knowledge")
    parser.add_argument("--vectors", action="store_true",
                        help="index ztai's static vectors too and time hybrid search")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, args.queries)
        return
    root = args.dir or Path(tempfile.mkdtemp(prefix="ztai-knowledge-bench-"))
    index_dir = root / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    corpus = Corpus.make()
    words_per_chunk = int(args.chunk_chars / 6.6)
    started = time.perf_counter()
    documents = list(corpus.documents(int(args.chunks * words_per_chunk * 0.81),
                                      words_per_chunk))
    generated = time.perf_counter() - started
    text_mb = sum(len(d.text) for d in documents) / 1e6
    corpus_rss = status_mb("VmRSS")
    print(f"generated {len(documents)} documents, {text_mb:.0f} MB in {generated:.1f}s",
          flush=True)
    options = Options(embedder=StaticEmbedder.load() if args.vectors else None)
    started = time.perf_counter()
    with KnowledgeIndex.build(index_dir, documents, IndexSettings(args.chunk_chars),
                              options) as index:
        built = time.perf_counter() - started
        stats = index.stats()
    build_peak = status_mb("VmHWM")
    del documents
    print(f"built {stats} in {built:.1f}s", flush=True)
    served = json.loads(subprocess.run(
        [sys.executable, __file__, "--probe", str(index_dir), "--queries", str(args.queries)],
        check=True, capture_output=True, text=True).stdout)
    print(f"served: {served}", flush=True)
    index = KnowledgeIndex.open(index_dir, options)
    queries = corpus.queries(args.queries, seed=11)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"{len(os.sched_getaffinity(0))} cores",
        "python": platform.python_version(), "numpy": np.__version__,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "documents": stats.documents, "chunks": stats.chunks, "text_mb": round(text_mb, 1),
        "chunk_chars": args.chunk_chars, "build_s": round(built, 1),
        "index_bytes": stats.disk_bytes, "index_parts": size_breakdown(index_dir),
        "open_s": served["open_s"], "serving_private_mb": served["private_mb"],
        "serving_mapped_files_mb": served["mapped_files_mb"],
        "corpus_rss_mb": corpus_rss, "build_peak_rss_mb": build_peak,
        "k": args.k, "queries": len(queries), "visibility": visibility(index),
        "vectors": args.vectors,
        "results": measure(index, queries, args.k, [args.k * 10, args.k * 100], args.vectors),
    }
    index.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{args.out}.md").write_text(markdown(report))
    if args.dir is None:
        shutil.rmtree(root)
    print(markdown(report))


def markdown(report: dict[str, object]) -> str:
    lines = [
        "# Knowledge: permission-filtered search vs search-then-filter",
        "",
        "Generated by `bench/knowledge/run.py` (seeded synthetic corpus, see `corpus.py`).",
        "",
        f"- machine: {report['machine']} (shared; 1-min load average "
        f"{report['load_average_at_end']} when the queries ended), Python {report['python']}, "
        f"numpy {report['numpy']}",
        f"- index: {report['documents']:,} documents, {report['chunks']:,} chunks "
        f"({report['chunk_chars']} characters at most), {report['text_mb']} MB of text",
        f"- build: {report['build_s']} s, peak RSS {report['build_peak_rss_mb']} MiB of which "
        f"{report['corpus_rss_mb']} MiB is the generated corpus the bench holds; on disk: "
        f"{int(report['index_bytes']) / 2**20:.0f} MiB",
        f"- serving (a fresh process, read-only, after all the queries): open "
        f"{report['open_s']} s, private memory {report['serving_private_mb']} MiB, mapped "
        f"index files {report['serving_mapped_files_mb']} MiB (page cache, shared, evictable)",
        "- on disk: " + ", ".join(f"{part} {size / 2**20:.0f} MiB" for part, size in
                                  dict(report["index_parts"]).items()),
        f"- {report['queries']} queries of 2 to 4 words (Zipf-drawn), k = {report['k']}, BM25; "
        "search-then-filter = the same index searched as a reader who sees everything, for "
        "k' results, then `authorize` as the user and keep the first k",
        "",
        "| user (chunks visible) | filtered p50 / p99 ms | full k | search-then-filter "
        "k'=10k: p50 / p99 ms, starved, mean results | k'=100k: p50 / p99 ms, starved, "
        "mean results |",
        "|---|---|---|---|---|",
    ]
    results = report["results"]
    assert isinstance(results, dict)
    visible = report["visibility"]
    assert isinstance(visible, dict)
    k = int(str(report["k"]))
    for name, entry in results.items():
        cells = [f"{name} ({visible[name]:.1%})",
                 f"{entry['filtered']['p50_ms']} / {entry['filtered']['p99_ms']}",
                 f"{entry['filtered_full_k']:.0%}"]
        for depth in (k * 10, k * 100):
            post = entry[f"search_then_filter_k{depth}"]
            cells.append(f"{post['p50_ms']} / {post['p99_ms']}, {post['starved']:.0%}, "
                         f"{post['mean_results']}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "*starved*: fewer than k results although the filtered search found k "
              "(or all there were).", ""]
    if report.get("vectors"):
        lines += ["Hybrid search (BM25 and ztai's static vectors, fused by reciprocal rank; "
                  "both inside the permission filter), the same queries:", "",
                  "| user (chunks visible) | hybrid p50 / p99 ms | full k |", "|---|---|---|"]
        lines += [f"| {name} | {entry['hybrid']['p50_ms']} / {entry['hybrid']['p99_ms']} | "
                  f"{entry['hybrid_full_k']:.0%} |" for name, entry in results.items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

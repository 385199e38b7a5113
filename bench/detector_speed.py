"""Per-request cost of the data-protection detectors, in microseconds per KB of UTF-8 text, on
ordinary English prose with no PII (~1 KB; also all in lower case), the texts of the PII dev set
(short chat messages, most with names, places or numbers) and a code snippet with one secret.

Each corpus is scanned text by text, as the classify stage scans segments; the detectors are
timed in turn within a round (interleaved, so a noisy neighbour hits all of them alike) and the
table shows the median over ``--rounds``. One core; KB = 1024 bytes.

    .venv/bin/python bench/detector_speed.py [--data ../shared/data] [--rounds 15] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ztai.protection.pii import default_pii_detector, structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

PROSE = (
    "When a team first adopts a language model for everyday work, the hardest part is rarely "
    "the technology itself. It is deciding which tasks the model should handle, how its answers "
    "are checked, and what happens when it is wrong. A sensible approach starts small: pick one "
    "workflow that is repetitive, well understood and easy to review, such as drafting replies "
    "to routine support questions or summarising long meeting notes. Measure how much time the "
    "team spends on it today, then run the model alongside the existing process for a few weeks "
    "and compare the results. Reviewers should note where the drafts were helpful, where they "
    "needed heavy editing and where they were simply misleading. Over time, these notes become "
    "a practical guide for writing better instructions and for spotting the kinds of requests "
    "that still need a careful human answer. It also helps to agree early on what information "
    "may be shared with the model at all, and to write that down in plain words that everyone "
    "on the team can follow without a lawyer at hand."
)
# A made-up GitHub token: the right shape and entropy, never issued.
CODE = '''import os
import requests

API_URL = "https://api.github.com/repos/example/project/issues"
GITHUB_TOKEN = "ghp_8aZq3LkT0wVx5rYb2NcPd7HsJf4Gm1Qe6Ui9"


def open_issues(label: str) -> list[dict]:
    """Fetch the open issues that carry ``label``, newest first."""
    headers = {"Authorization": f"token {GITHUB_TOKEN}", "Accept": "application/json"}
    params = {"state": "open", "labels": label, "sort": "created", "direction": "desc"}
    response = requests.get(API_URL, headers=headers, params=params, timeout=10)
    response.raise_for_status()
    return [issue for issue in response.json() if "pull_request" not in issue]


if __name__ == "__main__":
    for issue in open_issues(os.environ.get("LABEL", "bug")):
        print(issue["number"], issue["title"])
'''

Detect = Callable[[str], object]


def corpora(data: Path) -> dict[str, list[str]]:
    lines = (data / "pii" / "dev.jsonl").read_text("utf-8").split("\n")
    return {
        "prose 1 KB": [PROSE],
        "pii dev set": [json.loads(line)["text"] for line in lines if line.strip()],
        "code + secret": [CODE],
        "prose, lower": [PROSE.lower()],  # typed without capitals: the names' lower-case mode
    }


def detectors() -> dict[str, Detect]:
    return {
        "secrets": SecretDetector.build().detect,
        "structured pii": structured_pii_detector().detect,
        "pii + names": default_pii_detector().detect,
    }


def kilobytes(texts: Sequence[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1024


def one_pass(detect: Detect, texts: Sequence[str], loops: int) -> float:
    """Seconds per pass over ``texts``, averaged over ``loops`` passes."""
    started = time.perf_counter()
    for _ in range(loops):
        for text in texts:
            detect(text)
    return (time.perf_counter() - started) / loops


def measure(
    named: Mapping[str, Detect], texts: Mapping[str, Sequence[str]], rounds: int
) -> dict[str, dict[str, float]]:
    """Median µs/KB per detector per corpus; every round times every pair once, in turn."""
    loops = {c: max(1, round(20 / max(kilobytes(t), 0.05))) for c, t in texts.items()}
    samples: dict[tuple[str, str], list[float]] = {(d, c): [] for d in named for c in texts}
    for detect in named.values():  # warm-up: caches, lazily built tables
        for corpus in texts.values():
            one_pass(detect, corpus, 1)
    for _ in range(rounds):
        for corpus, corpus_texts in texts.items():
            for name, detect in named.items():
                seconds = one_pass(detect, corpus_texts, loops[corpus])
                samples[name, corpus].append(seconds * 1e6 / kilobytes(corpus_texts))
    return {d: {c: statistics.median(samples[d, c]) for c in texts} for d in named}


def table(results: Mapping[str, Mapping[str, float]], texts: Mapping[str, Sequence[str]]) -> str:
    header = f"{'µs per KB (median)':<22}" + "".join(f"{c:>16}" for c in texts)
    sizes = f"{'  corpus size':<22}" + "".join(
        f"{f'{kilobytes(t):.1f} KB / {len(t)}':>16}" for t in texts.values()
    )
    rows = [
        f"{name:<22}" + "".join(f"{per_corpus[c]:>16.1f}" for c in texts)
        for name, per_corpus in results.items()
    ]
    return "\n".join([header, sizes, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    texts = corpora(args.data)
    results = measure(detectors(), texts, args.rounds)
    print(table(results, texts))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Secret detection: quality on the gitleaks and detect-secrets cases, false positives and
throughput on a mixed prose corpus (the PII and injection dev sets, which hold no real secrets).

- Quality: ``evaluate_secrets`` per source (precision, recall, FPR; "any kind" counts a
  should-not-match string flagged by any rule), rules skipped at build, cases excluded.
- Throughput: one core, documents scanned one by one as the gateway scans segments, and the
  whole corpus as one string; median of ``--rounds``; MB = 10^6 bytes of UTF-8.
- False positives: findings per kind on the prose corpus, default config and with the
  high-entropy detector on (threshold ``--entropy``).

    .venv/bin/python bench/secrets_eval.py [--data ../shared/data] [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ztai.protection.secrets_detector import SecretDetector, SecretDetectorConfig
from ztai.protection.secrets_entropy import HighEntropyPolicy
from ztai.protection.secrets_eval import Counts, SecretsReport, evaluate_secrets, load_secret_cases

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def corpus(data: Path) -> list[str]:
    texts = [json.loads(line)["text"] for line in (data / "pii/dev.jsonl").open(encoding="utf-8")]
    for line in (data / "injection/dev.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        texts.append(row.get("context") or row["text"])
    return texts


def fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def counts_line(label: str, c: Counts) -> str:
    return (f"  {label:<10} tp={c.tp:<4} fn={c.fn:<4} fp={c.fp:<4} tn={c.tn:<4} "
            f"precision={fmt(c.precision)} recall={fmt(c.recall)} fpr={fmt(c.fpr)}")


def print_report(title: str, report: SecretsReport) -> None:
    print(f"\n== {title}: {report.rules_in_use} rules in use, {len(report.skipped)} skipped")
    for skipped in report.skipped:
        print(f"  skipped {skipped.rule_id}: {skipped.reason}")
    print(f"  applied without their path condition: {', '.join(report.unscoped)}")
    for source in report.sources:
        print(f"{source.source}:")
        print(counts_line("own kind", source.counts))
        print(counts_line("any kind", source.any_kind))
        for rule in source.rules:
            if rule.counts.fn or rule.counts.fp:
                print(f"    {rule.rule:<40} fn={rule.counts.fn} fp={rule.counts.fp}")
    for excluded in report.excluded:
        print(f"  excluded {excluded.source}/{excluded.rule} ({excluded.cases}): {excluded.reason}")


def timed(action: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def throughput(detector: SecretDetector, texts: list[str], rounds: int) -> dict[str, float]:
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    joined = "\n".join(texts)
    per_doc = timed(lambda: [detector.detect(t) for t in texts], rounds)
    whole = timed(lambda: detector.detect(joined), rounds)
    return {"megabytes": megabytes, "docs": len(texts),
            "per_doc_mb_s": megabytes / per_doc, "whole_mb_s": megabytes / whole}


def false_positives(detector: SecretDetector, texts: list[str]) -> Counter[str]:
    return Counter(m.kind for t in texts for m in detector.detect(t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--entropy", type=float, default=HighEntropyPolicy().threshold)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    start = time.perf_counter()
    default = SecretDetector.build()
    print(f"build: {time.perf_counter() - start:.3f}s")
    entropy = SecretDetector.build(SecretDetectorConfig(
        high_entropy=HighEntropyPolicy(threshold=args.entropy)))
    cases = load_secret_cases(args.data / "secrets")
    print_report("default", evaluate_secrets(cases, default))
    print_report(f"with high-entropy > {args.entropy}", evaluate_secrets(cases, entropy))
    texts = corpus(args.data)
    speed = throughput(default, texts, args.rounds)
    print(f"\n== throughput (one core): {speed['megabytes']:.2f} MB in {speed['docs']} docs: "
          f"{speed['per_doc_mb_s']:.1f} MB/s per document, {speed['whole_mb_s']:.1f} MB/s whole")
    fps = {"default": false_positives(default, texts),
           "high-entropy": false_positives(entropy, texts)}
    for name, found in fps.items():
        print(f"findings on prose ({name}): {sum(found.values())} {dict(found.most_common(8))}")
    if args.json:
        args.json.write_text(json.dumps({"throughput": speed, "prose_findings": fps}, indent=1))


if __name__ == "__main__":
    main()

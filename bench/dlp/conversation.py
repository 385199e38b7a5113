"""What the classify stage's memory saves on multi-turn chats: a chat client resends the whole
conversation with every turn, so without memory turn *t* scans *t* user messages, *t - 1* answers
and the system prompt again.

Conversations are built from the PII dev set (user messages, most with PII) and the benign
prompts of the injection dev set (stand-ins for the answers): ``--conversations`` of ``--turns``
turns each, every one different, all from one caller. Each request is classified as the
classify stage does it (``ClassifyStage``: secrets + structured PII on every message), once by
a new stage for every request (nothing remembered) and once by one stage per round; the two run
in turn within each round (interleaved) and every round starts from an empty memory. Reported:
CPU µs per request (median over rounds) for each turn count and over the whole conversation,
and the ratio.

    .venv/bin/python bench/dlp/conversation.py [--data ../shared/data] [--turns 10]
        [--conversations 40] [--rounds 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ztai.core.model import PrincipalKind
from ztai.gateway.classify import Classifier, ClassifyStage
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SYSTEM = "You are a helpful assistant for the customer-support team. Answer briefly."

Conversation = list[list[str]]  # the requests of one conversation, each a list of messages


def conversations(data: Path, count: int, turns: int) -> list[Conversation]:
    users = [json.loads(line)["text"]
             for line in (data / "pii" / "dev.jsonl").read_text("utf-8").split("\n") if line]
    answers = [row["text"] for line in
               (data / "injection" / "dev.jsonl").read_text("utf-8").split("\n") if line
               for row in [json.loads(line)] if row["label"] == 0]
    if count * turns > min(len(users), len(answers)):
        raise SystemExit(f"not enough rows for {count} conversations of {turns} turns")
    built: list[Conversation] = []
    for c in range(count):
        history = [SYSTEM]
        requests: Conversation = []
        for t in range(turns):
            history.append(users[c * turns + t])
            requests.append(list(history))
            history.append(answers[c * turns + t])
        built.append(requests)
    return built


CALLER = f"{PrincipalKind.USER.value}:bench"


def classify_all(next_stage: Callable[[], ClassifyStage], convs: Sequence[Conversation]
                 ) -> list[float]:
    """CPU seconds of each request, in conversation order; ``next_stage`` gives the stage for
    each request."""
    spent: list[float] = []
    for conv in convs:
        for request in conv:
            stage = next_stage()
            started = time.process_time()
            for index, text in enumerate(request):  # what ClassifyStage.run does per segment
                stage._scan(index, text, {}, CALLER)
            spent.append(time.process_time() - started)
    return spent


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def report(samples: dict[str, list[list[float]]], args: argparse.Namespace) -> None:
    """Print (and with ``--json`` write) the per-turn and overall medians of ``samples``:
    rounds of CPU seconds per request "without memory" and "with memory"."""
    per_turn = {name: [statistics.median(
        statistics.mean(run[c * args.turns + t] for c in range(args.conversations))
        for run in runs) * 1e6 for t in range(args.turns)] for name, runs in samples.items()}
    overall = {name: statistics.median(statistics.mean(run) for run in runs) * 1e6
               for name, runs in samples.items()}
    print(f"{args.conversations} conversations × {args.turns} turns, {args.rounds} rounds; "
          "CPU µs per request (median of rounds)")
    print(f"{'turn':>5} {'without memory':>16} {'with memory':>13} {'ratio':>7}")
    for t in range(args.turns):
        without, with_ = per_turn["without memory"][t], per_turn["with memory"][t]
        print(f"{t + 1:>5} {without:>16.1f} {with_:>13.1f} {without / with_:>6.2f}×")
    ratio = overall["without memory"] / overall["with memory"]
    print(f"{'all':>5} {overall['without memory']:>16.1f} {overall['with memory']:>13.1f} "
          f"{ratio:>6.2f}×")
    if args.json:
        args.json.write_text(json.dumps({"turns": args.turns, "conversations":
                                         args.conversations, "rounds": args.rounds,
                                         "per_turn_us": per_turn, "overall_us": overall,
                                         "ratio": ratio}, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    convs = conversations(args.data, args.conversations, args.turns)
    classifier = Classifier((SecretDetector.build(), structured_pii_detector()), LabelScheme())
    classify_all(lambda: ClassifyStage(classifier), convs)  # warm-up: lazily built tables
    samples: dict[str, list[list[float]]] = {"without memory": [], "with memory": []}
    for _ in range(args.rounds):
        samples["without memory"].append(classify_all(lambda: ClassifyStage(classifier), convs))
        remembering = ClassifyStage(classifier)  # empty at each round
        samples["with memory"].append(classify_all(lambda stage=remembering: stage, convs))
    report(samples, args)


if __name__ == "__main__":
    main()

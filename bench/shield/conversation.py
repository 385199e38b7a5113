"""What the detect stage's memory saves on multi-turn chats: a chat client resends the whole
conversation with every turn, so without memory turn *t* judges *t* user messages, *t - 1*
answers and the system prompt again.

The conversations of ``bench/dlp/conversation.py`` (user messages from the PII dev set, benign
prompts of the injection dev set as the answers), each request judged as the detect stage
judges it (``ShieldStage``: every message through the prompt shield in its role), once by a
new stage for every request (nothing remembered) and once by one stage per round; the two run
in turn within each round (interleaved), and every round starts from an empty memory. Reported:
CPU µs per request (median over rounds) for each turn count and over the whole conversation,
and the ratio.

    .venv/bin/python bench/shield/conversation.py [--data ../shared/data] [--turns 10]
        [--conversations 40] [--rounds 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from ztai.core.flow import Flow
from ztai.core.model import (
    Action,
    Exchange,
    ExchangeId,
    Principal,
    PrincipalId,
    PrincipalKind,
    Resource,
    ResourceKind,
    Role,
    Segment,
)
from ztai.gateway.shield import ShieldStage
from ztai.threats.shield import Shield


def _dlp_conversations() -> ModuleType:
    """bench/dlp/conversation.py, for its conversations (same file name as this one)."""
    path = Path(__file__).resolve().parents[1] / "dlp" / "conversation.py"
    spec = importlib.util.spec_from_file_location("dlp_conversation", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_DLP = _dlp_conversations()
DATA: Path = _DLP.DATA
Conversation = list[list[str]]
conversations: Callable[[Path, int, int], list[Conversation]] = _DLP.conversations

PRINCIPAL = Principal(PrincipalId("bench"), PrincipalKind.USER)


def flow_of(request: Sequence[str]) -> Flow:
    """The request as the detect stage sees it: the system prompt, then user and assistant
    messages in turn."""
    roles = [Role.SYSTEM] + [Role.USER if i % 2 == 0 else Role.ASSISTANT
                             for i in range(len(request) - 1)]
    segments = tuple(Segment(role, text) for role, text in zip(roles, request, strict=True))
    exchange = Exchange(ExchangeId("bench"), "chat", Action.INVOKE_MODEL,
                        Resource(ResourceKind.MODEL, "bench"), segments)
    return Flow(exchange, PRINCIPAL)


def judge_all(next_stage: Callable[[], ShieldStage], convs: Sequence[Conversation]
              ) -> list[float]:
    """CPU seconds of each request, in conversation order; ``next_stage`` gives the stage for
    each request."""
    spent: list[float] = []
    for conv in convs:
        for request in conv:
            stage, flow = next_stage(), flow_of(request)
            started = time.process_time()
            stage._judge(flow)  # what ShieldStage.run does for a request under 16 K characters
            spent.append(time.process_time() - started)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    convs = conversations(args.data, args.conversations, args.turns)
    shield = Shield()
    judge_all(lambda: ShieldStage(shield), convs[:2])  # warm-up
    samples: dict[str, list[list[float]]] = {"without memory": [], "with memory": []}
    for _ in range(args.rounds):
        samples["without memory"].append(judge_all(lambda: ShieldStage(shield), convs))
        remembering = ShieldStage(shield)  # empty at each round
        samples["with memory"].append(judge_all(lambda stage=remembering: stage, convs))
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


if __name__ == "__main__":
    main()

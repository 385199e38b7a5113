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

import importlib.util
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
    args = _DLP.arguments(__doc__.splitlines()[0])
    convs = conversations(args.data, args.conversations, args.turns)
    shield = Shield()
    judge_all(lambda: ShieldStage(shield), convs[:2])  # warm-up
    samples: dict[str, list[list[float]]] = {"without memory": [], "with memory": []}
    for _ in range(args.rounds):
        samples["without memory"].append(judge_all(lambda: ShieldStage(shield), convs))
        remembering = ShieldStage(shield)  # empty at each round
        samples["with memory"].append(judge_all(lambda stage=remembering: stage, convs))
    _DLP.report(samples, args)


if __name__ == "__main__":
    main()

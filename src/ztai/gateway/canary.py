"""System-prompt canaries (``shield.canaries``): a fresh random marker is added to the system
prompt of each exchange that has one, with an instruction never to repeat it; the answer is
watched for it (verbatim, spaced out, reversed, rot13, encoded). A leak is the finding
``threat.prompt_leak``, and the starter DLP rule ``no-system-prompt-leaks`` blocks the answer
— in a stream, before the marker is sent. The marker never reaches the audit log.

The stage runs last, after protect: it appends to whatever the system prompt became."""

from __future__ import annotations

from ztai.core.flow import Flow
from ztai.core.model import Decision, Role
from ztai.threats.canary import CanaryDetector, canary_instruction, new_canary

SYSTEM_ROLES = (Role.SYSTEM, Role.DEVELOPER)


class CanaryStage:
    name = "canary"
    suspends = False  # run() never awaits: the pipeline runs it to completion

    async def run(self, flow: Flow) -> Decision | None:
        segments = flow.exchange.segments
        # the system prompt: not a tool's definition nor metadata the model never reads
        index = next((i for i, s in enumerate(segments)
                      if s.role in SYSTEM_ROLES and not (s.definition or s.unread)), None)
        if index is None:
            return None
        canary = new_canary()
        text = flow.rewrites.get(index, segments[index].text)
        flow.rewrites[index] = f"{text}\n\n{canary_instruction(canary)}"
        flow.watches.append(_Watch(CanaryDetector(canary)))
        flow.notes["canary"] = True
        return None


class _Watch:
    name = "threats.canary"

    def __init__(self, detector: CanaryDetector) -> None:
        self._detector = detector

    def detect(self, text: str) -> list[object]:
        return list(self._detector.detect(text))

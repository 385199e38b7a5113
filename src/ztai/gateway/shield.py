"""The detect stage: every segment goes through the prompt shield with the threshold of who
wrote it (the user; a document or tool output, untrusted; the application's system prompt).
A text the same caller sent recently in the same role is not judged again (``ztai.core.memo``:
a chat client resends the whole conversation with every turn).
Findings (spans and kinds) join the exchange's findings; Cedar's context gets ``injection``,
``injection_direct``, ``injection_indirect``, ``injection_score`` (0–100), ``threat_kinds`` and
``tainted`` (untrusted content carried an attack: agent policies hold high-impact actions).
Tool definitions a client sends (judged by the shield's rules alone) are a signal of
their own, ``tool_definition_injection`` (tool poisoning), with ``flagged_tool_definitions``
(the flagged definitions' digests), so that a policy can treat a flagged definition apart from
an attack in the conversation and allow a reviewed one.
What happens is policy: the starter set blocks attacks.

On the way back, answers are inspected for exfiltration (markdown images and links carrying
data to domains off the allow-list, hidden HTML, suspicious tool-call arguments): those findings
reach the DLP rules with ``direction == "response"`` like any other."""

from __future__ import annotations

import asyncio
import bisect
import hashlib

from ztai.core.flow import Flow
from ztai.core.memo import DigestMemo
from ztai.core.model import Decision, Finding, Provenance, Role, Segment, Span
from ztai.gateway.control import ref
from ztai.protection.model import Match
from ztai.threats.output import OutputInspector
from ztai.threats.shield import Shield, Source, Verdict

OFF_LOOP_CHARS = 16_384  # larger requests are judged in a worker thread
MAX_REMEMBERED_TEXTS = 4096  # verdicts of recently judged texts (by digest, caller and role)


class ShieldStage:
    name = "detect"

    def __init__(self, shield: Shield) -> None:
        self._shield = shield
        self.shield = shield  # shared with routes that scan what servers return (MCP)
        # an application sends the same system prompt with every request, and a chat client
        # its whole conversation: each text is judged once per caller and role while it is
        # remembered (per caller: how fast an answer comes tells nothing of others' texts)
        self._memo: DigestMemo[Verdict] = DigestMemo(MAX_REMEMBERED_TEXTS)

    def _scan(self, text: str, source: Source, caller: str) -> Verdict:
        return self._memo.get(text, lambda _: self._shield.scan(text, source),
                              f"{source.value} {caller}")

    async def run(self, flow: Flow) -> Decision | None:
        if sum(len(s.text) for s in flow.exchange.segments) > OFF_LOOP_CHARS:
            return await asyncio.to_thread(self._judge, flow)  # keep the event loop serving
        return self._judge(flow)

    def _judge(self, flow: Flow) -> Decision | None:
        kinds: set[str] = set()
        score, direct, indirect = 0.0, False, False
        caller = ref(flow.principal)
        flagged = self._judge_definitions(flow, caller)
        for index, segment in enumerate(flow.exchange.segments):
            if segment.definition or segment.unread:
                continue  # definitions are judged above; the model never reads unread ones
            source = source_of(segment)
            verdict = self._scan(segment.text, source, caller)
            for m in verdict.matches:
                flow.findings.append(Finding(m.kind, index, Span(m.start, m.end), m.score,
                                             m.detector))
            score = max(score, verdict.decision)
            kinds.update(m.kind for m in verdict.matches)
            if verdict.attack:
                direct = direct or source is not Source.DOCUMENT
                indirect = indirect or source is Source.DOCUMENT
        untrusted = any(s.provenance is Provenance.UNTRUSTED for s in flow.exchange.segments)
        # a route may already know of earlier taint (an agent session that read tool output)
        untrusted = untrusted or flow.context.get("untrusted_content") is True
        tainted = indirect or flow.context.get("tainted") is True
        flow.context.update({
            "injection": direct or indirect,
            "injection_direct": direct,
            "injection_indirect": indirect,
            "injection_score": round(score * 100),
            "threat_kinds": tuple(sorted(kinds)),
            "untrusted_content": untrusted,
            "tainted": tainted,
            "tool_definition_injection": bool(flagged),
            "flagged_tool_definitions": flagged,
        })
        if direct or indirect:
            flow.notes["shield_score"] = round(score * 100)
        if flagged:
            flow.notes["flagged_tool_definitions"] = " ".join(flagged)
        return None

    def _judge_definitions(self, flow: Flow, caller: str) -> tuple[str, ...]:
        """Each tool's definition (the answer format's too) judged as one text by the shield's
        rules (``Source.DEFINITION``): their many short strings (a description, each
        parameter's) would cost a scan each otherwise. A finding is told on the string it
        starts in. Returns the digests of the definitions the rules flag, which a policy may
        allow once reviewed."""
        tools: dict[str, list[tuple[int, str]]] = {}
        for index, segment in enumerate(flow.exchange.segments):
            if segment.definition:  # "tools[3].function.description" -> "tools[3]"
                tools.setdefault(segment.source.split(".", 1)[0], []).append(
                    (index, segment.text))
        flagged = []
        for parts in tools.values():
            starts, offset = [], 0
            for _, text in parts:
                starts.append(offset)
                offset += len(text) + 1
            joined = "\n".join(text for _, text in parts)
            verdict = self._scan(joined, Source.DEFINITION, caller)
            for m in verdict.matches:
                at = bisect.bisect_right(starts, m.start) - 1
                index, text = parts[at]
                start = min(m.start - starts[at], len(text))
                end = max(start, min(m.end - starts[at], len(text)))
                flow.findings.append(Finding(m.kind, index, Span(start, end), m.score,
                                             m.detector))
            if verdict.attack:
                flagged.append(definition_digest(joined))
        return tuple(sorted(flagged))


def definition_digest(text: str) -> str:
    """What an operator allows a reviewed definition by: 128 bits of its texts' SHA-256."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def source_of(segment: Segment) -> Source:
    if segment.provenance is Provenance.UNTRUSTED or segment.role is Role.TOOL:
        return Source.DOCUMENT
    if segment.role in (Role.SYSTEM, Role.DEVELOPER):
        return Source.SYSTEM
    return Source.USER


class ExfiltrationDetector:
    """The output inspector as one of the answer's detectors."""

    model_words_only = True  # not for a provider's own fields (``AnswerPolicy``)

    def __init__(self, inspector: OutputInspector) -> None:
        self.inspector = inspector
        self.name = "threats.output"

    def detect(self, text: str) -> list[Match]:
        return [Match(m.kind, m.start, m.end, m.score, m.detector or self.name)
                for m in self.inspector.inspect(text)]

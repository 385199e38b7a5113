"""What threat detectors report. A ``ThreatMatch`` is a span of the ORIGINAL text the detector
was given (never of a normalised or decoded view) and never carries the matched text itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ThreatKind(StrEnum):
    INJECTION = "threat.injection"  # the trained classifier's verdict
    INSTRUCTION_OVERRIDE = "threat.instruction_override"
    JAILBREAK = "threat.jailbreak"
    PROMPT_EXTRACTION = "threat.prompt_extraction"
    ROLE_INJECTION = "threat.role_injection"  # fake system/assistant turn markers
    AGENT_INSTRUCTION = "threat.agent_instruction"  # a document speaking to the AI reading it
    EXFILTRATION_INSTRUCTION = "threat.exfiltration_instruction"
    INVISIBLE_TEXT = "threat.invisible_text"
    ENCODED_PAYLOAD = "threat.encoded_payload"
    CONFUSABLES = "threat.confusables"
    EXFILTRATION = "threat.exfiltration"  # output side: data leaving through a URL
    HIDDEN_HTML = "threat.hidden_html"
    SUSPICIOUS_TOOL_ARGS = "threat.suspicious_tool_args"
    PROMPT_LEAK = "threat.prompt_leak"


@dataclass(frozen=True, slots=True)
class ThreatMatch:
    kind: str  # a ThreatKind value
    start: int
    end: int
    score: float = 1.0
    detector: str = ""

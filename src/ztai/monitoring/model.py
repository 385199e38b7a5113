"""What the monitor reads from one audit event (``Observation``), the indicators it scores, and
what it concludes about a principal at a moment (``Assessment``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ztai.storage.model import RiskLevel

ENGINE_ACTOR = "service:ztai-risk"  # ``set_by`` of the levels the monitor publishes


class Indicator(StrEnum):
    VOLUME = "volume"  # requests
    DENIED = "denied"  # refused or blocked by a control (401/403), not outages
    SENSITIVE = "sensitive"  # touched content labelled at or above the sensitive label
    DOCUMENTS = "documents"  # distinct sensitive documents touched
    PROBING = "probing"  # a denied attempt repeated on the same topic
    NEW_TOOL = "new_tool"  # a tool this principal never used before
    NEW_MODEL = "new_model"  # a model this principal never used before
    CONSUMER = "consumer"  # data (kilotokens) sent to consumer-tier destinations
    OFF_HOURS = "off_hours"  # use outside working hours (people only)
    SHIELD = "shield"  # the prompt shield found an attack in the request


@dataclass(frozen=True, slots=True)
class Observation:
    """One audit event reduced to what the indicators need; never content."""

    seq: int
    event_id: str
    time: float
    principal: str  # "kind:id", as the control state names it
    kind: str
    action: str
    resource: str
    effect: str  # the decision: allow | deny
    denied: bool
    sensitive: bool = False
    topics: frozenset[str] = frozenset()  # what a denied attempt was about (term.x, doc:y, ...)
    documents: frozenset[str] = frozenset()  # sensitive documents touched
    tool: str | None = None
    model: str | None = None
    egress_kt: float = 0.0  # kilotokens sent to a consumer-tier destination
    off_hours: bool = False
    shield: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    """A principal's decayed score and level at ``at``, and the alert open about it."""

    principal: str
    score: float
    level: RiskLevel
    at: float
    alert_id: str | None = None
    summary: str = ""

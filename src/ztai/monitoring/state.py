"""What the monitor remembers between events, per principal and per peer group, and its JSON
form (the blobs the monitor store keeps). Bounded: a principal keeps at most ``MAX_TOOLS``
tools and models, ``MAX_TOPICS`` probed topics, ``MAX_DOCUMENTS`` documents and
``MAX_EVIDENCE`` evidence events; a group at most ``MAX_GROUP_TOOLS`` tool counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ztai.monitoring.baseline import Ewma
from ztai.storage.model import AlertEvidence, RiskLevel

VERSION = 1
MAX_TOOLS = 1024
MAX_TOPICS = 64
MAX_DOCUMENTS = 1024
MAX_EVIDENCE = 32
MAX_GROUP_TOOLS = 4096


@dataclass(slots=True)
class Probe:
    """Refused attempts on one topic since ``first_at``; the first is kept as evidence."""

    count: int
    first_at: float
    last_at: float
    first: AlertEvidence


@dataclass(slots=True)
class OpenAlert:
    alert_id: str
    revision: int
    level: RiskLevel
    raised_at: float


@dataclass(slots=True)
class PrincipalState:
    principal: str
    kind: str
    group: str
    events: int = 0
    bucket: int = -1
    counts: dict[str, float] = field(default_factory=dict)  # units in the open bucket
    limits: dict[str, float] = field(default_factory=dict)  # allowances of the open bucket
    earned: dict[str, float] = field(default_factory=dict)  # points in the open bucket
    baseline: dict[str, Ewma] = field(default_factory=dict)
    score: float = 0.0
    score_at: float = 0.0
    tools: set[str] = field(default_factory=set)  # "tool:x" and "model:y"
    probes: dict[str, Probe] = field(default_factory=dict)
    documents: dict[str, float] = field(default_factory=dict)  # document -> last touched
    evidence: list[AlertEvidence] = field(default_factory=list)
    alert: OpenAlert | None = None


@dataclass(slots=True)
class GroupState:
    members: int = 0
    baseline: dict[str, Ewma] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)  # "tool:x" -> members that used it


def encode_principal(p: PrincipalState) -> bytes:
    return orjson.dumps({
        "v": VERSION, "principal": p.principal, "kind": p.kind, "group": p.group,
        "events": p.events, "bucket": p.bucket, "counts": p.counts, "limits": p.limits,
        "earned": p.earned, "baseline": {k: e.as_list() for k, e in p.baseline.items()},
        "score": p.score, "score_at": p.score_at, "tools": sorted(p.tools),
        "probes": {t: [pr.count, pr.first_at, pr.last_at, _evidence(pr.first)]
                   for t, pr in p.probes.items()},
        "documents": p.documents, "evidence": [_evidence(e) for e in p.evidence],
        "alert": None if p.alert is None else [p.alert.alert_id, p.alert.revision,
                                               p.alert.level.value, p.alert.raised_at],
    }, option=orjson.OPT_SORT_KEYS)


def decode_principal(blob: bytes) -> PrincipalState:
    d = _versioned(blob)
    alert = d["alert"]
    return PrincipalState(
        principal=d["principal"], kind=d["kind"], group=d["group"], events=d["events"],
        bucket=d["bucket"], counts=d["counts"], limits=d["limits"], earned=d["earned"],
        baseline={k: Ewma.of(v) for k, v in d["baseline"].items()},
        score=d["score"], score_at=d["score_at"], tools=set(d["tools"]),
        probes={t: Probe(c, f, la, _of_evidence(e)) for t, (c, f, la, e) in d["probes"].items()},
        documents=d["documents"], evidence=[_of_evidence(e) for e in d["evidence"]],
        alert=None if alert is None else OpenAlert(alert[0], alert[1], RiskLevel(alert[2]),
                                                   alert[3]),
    )


def encode_group(g: GroupState) -> bytes:
    return orjson.dumps({"v": VERSION, "members": g.members, "users": g.users,
                         "baseline": {k: e.as_list() for k, e in g.baseline.items()}},
                        option=orjson.OPT_SORT_KEYS)


def decode_group(blob: bytes) -> GroupState:
    d = _versioned(blob)
    return GroupState(d["members"], {k: Ewma.of(v) for k, v in d["baseline"].items()},
                      d["users"])


def _versioned(blob: bytes) -> dict[str, Any]:
    data = orjson.loads(blob)
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise ValueError(f"monitor state of an unknown version (expected {VERSION})")
    return data


def _evidence(e: AlertEvidence) -> list[Any]:
    return [e.seq, e.event_id, e.time, e.action, e.resource, e.decision, dict(e.points),
            list(e.topics)]


def _of_evidence(v: list[Any]) -> AlertEvidence:
    seq, event_id, time, action, resource, decision, points, topics = v
    return AlertEvidence(seq, event_id, time, action, resource, decision, points, tuple(topics))

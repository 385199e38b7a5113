"""The documented scoring. Each event earns points per indicator; a principal's score is the sum
of its points, each halved every ``half_life_s`` since it was earned; the level is the highest
threshold the score reaches. Everything is a function of the events (in audit order), the
configuration and the moment asked about, so replaying a log gives the same levels.

Rate indicators count units per principal per bucket (an hour by default). Units up to the
bucket's allowance earn nothing; each unit beyond earns ``weight`` points. The allowance is
``max(floor, mean + z * sd)`` of the principal's own baseline blended with its peer group's
(``ztai.monitoring.baseline``), fixed when the bucket opens. Event indicators (no ``z``) earn
``weight`` per occurrence. No indicator earns more than ``cap`` points per bucket.

| indicator  | unit                                             | weight | floor | z | cap |
|------------|--------------------------------------------------|-------:|------:|--:|----:|
| volume     | a request                                        |    0.5 |    60 | 4 |  15 |
| denied     | a request refused or blocked (401/403)           |      4 |     2 | 3 |  40 |
| sensitive  | a request touching Confidential+ content/finding |      2 |     5 | 3 |  20 |
| documents  | a distinct sensitive document, new in 24 h       |      3 |     3 | 3 |  30 |
| consumer   | a kilotoken sent to a consumer-tier model        |      2 |     4 | 3 |  20 |
| off_hours  | a request outside working hours (people only) *  |      1 |     3 | 3 |  12 |
| probing    | a refused attempt repeating a topic within 24 h  |      8 |     - | - |  48 |
| new_tool   | a tool never used before, x its rarity in peers *|     12 |     - | - |  48 |
| new_model  | a model never used before, x its rarity in peers*|      4 |     - | - |  12 |
| shield     | a request the prompt shield found an attack in   |     10 |     - | - |  50 |

A newcomer's allowances start four times wider and narrow as its own history grows. The
indicators marked * and new tools and models earn nothing while the principal is learning (its
first 30 events and 8 buckets): they are about departing from its own habits.

Levels: minor from 10 points, moderate from 30, elevated from 60; half-life 6 hours."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ztai.monitoring.model import Indicator
from ztai.storage.model import RiskLevel

LEVELS = (RiskLevel.NONE, RiskLevel.MINOR, RiskLevel.MODERATE, RiskLevel.ELEVATED)


@dataclass(frozen=True, slots=True)
class Rule:
    """``z`` None: an event indicator (no baseline, no allowance)."""

    weight: float
    floor: float = 0.0
    z: float | None = None
    cap: float = 50.0
    people_only: bool = False
    after_learning: bool = False  # judged against the principal's own habits only

    @property
    def is_rate(self) -> bool:
        return self.z is not None


_I = Indicator
RULES: Mapping[Indicator, Rule] = MappingProxyType({
    _I.VOLUME: Rule(0.5, floor=60, z=4, cap=15),
    _I.DENIED: Rule(4, floor=2, z=3, cap=40),
    _I.SENSITIVE: Rule(2, floor=5, z=3, cap=20),
    _I.DOCUMENTS: Rule(3, floor=3, z=3, cap=30),
    _I.CONSUMER: Rule(2, floor=4, z=3, cap=20),
    _I.OFF_HOURS: Rule(1, floor=3, z=3, cap=12, people_only=True, after_learning=True),
    _I.PROBING: Rule(8, cap=48),
    _I.NEW_TOOL: Rule(12, cap=48, after_learning=True),
    _I.NEW_MODEL: Rule(4, cap=12, after_learning=True),
    _I.SHIELD: Rule(10, cap=50),
})
RATE_INDICATORS = tuple(i for i, rule in RULES.items() if rule.is_rate)


@dataclass(frozen=True, slots=True)
class Thresholds:
    minor: float = 10.0
    moderate: float = 30.0
    elevated: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.minor <= self.moderate <= self.elevated:
            raise ValueError("risk thresholds must be positive and minor <= moderate <= elevated")

    def level(self, score: float) -> RiskLevel:
        if score >= self.elevated:
            return RiskLevel.ELEVATED
        if score >= self.moderate:
            return RiskLevel.MODERATE
        return RiskLevel.MINOR if score >= self.minor else RiskLevel.NONE


@dataclass(frozen=True, slots=True)
class ScoringOptions:
    """``alpha``/``group_alpha``: how fast a principal's / a peer group's baseline follows new
    buckets; ``prior_buckets``: how many of its own buckets a principal needs before its own
    baseline weighs as much as its group's; ``newcomer_slack``: how much wider a newcomer's
    allowances start (``1 + slack / (n + 1)**2`` after ``n`` buckets of its own);
    ``learning_events``/``learning_buckets``: new tools and models count only once the
    principal has this many events and buckets behind it; ``window_s``: how long a probed
    topic or a touched document is remembered."""

    rules: Mapping[Indicator, Rule] = field(default_factory=lambda: RULES)
    thresholds: Thresholds = field(default_factory=Thresholds)
    half_life_s: float = 6 * 3600.0
    bucket_s: float = 3600.0
    alpha: float = 0.1
    group_alpha: float = 0.05
    prior_buckets: float = 3.0
    newcomer_slack: float = 3.0
    learning_events: int = 30
    learning_buckets: int = 8
    window_s: float = 86400.0
    alert_level: RiskLevel = RiskLevel.MODERATE


def decayed(score: float, since: float, now: float, half_life_s: float) -> float:
    """``score`` earned at ``since``, as it stands at ``now`` (never grows backwards in time)."""
    return score * math.pow(0.5, max(0.0, now - since) / half_life_s)


def rank(level: RiskLevel) -> int:
    return LEVELS.index(level)

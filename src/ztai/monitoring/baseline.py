"""Adaptive baselines: an exponentially weighted mean and variance of an indicator's count per
active bucket, per principal and per peer group. A principal's allowance blends both, trusting
its own history more as it grows, so a newcomer is judged against its peers from the start.
Counts are learned winsorised (at most twice the allowance), so one burst, or an attacker
pushing slowly, cannot teach the baseline that the burst is normal."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ztai.monitoring.scoring import Rule

WINSOR = 2.0  # a bucket teaches at most this multiple of its allowance


@dataclass(slots=True)
class Ewma:
    mean: float = 0.0
    var: float = 0.0
    n: int = 0

    def learn(self, value: float, alpha: float) -> None:
        if self.n == 0:
            self.mean, self.var = value, 0.0
        else:
            delta = value - self.mean
            self.mean += alpha * delta
            self.var = (1 - alpha) * (self.var + alpha * delta * delta)
        self.n += 1

    def as_list(self) -> list[float]:
        return [self.mean, self.var, self.n]

    @classmethod
    def of(cls, values: list[float]) -> Ewma:
        mean, var, n = values
        return cls(float(mean), float(var), int(n))


def allowance(rule: Rule, own: Ewma, peers: Ewma, prior_buckets: float,
              slack: float = 0.0) -> float:
    """Units per bucket that earn nothing: ``max(floor, mean + z * sd)`` of the blend, widened
    by ``1 + slack / (n + 1)**2`` while the principal's own history (``n`` buckets) is short."""
    if rule.z is None:
        return 0.0
    widen = 1.0 + slack / (own.n + 1) ** 2
    if own.n == 0 and peers.n == 0:
        return rule.floor * widen
    trust = own.n / (own.n + prior_buckets) if peers.n else 1.0
    mean = trust * own.mean + (1 - trust) * peers.mean
    var = trust * own.var + (1 - trust) * peers.var
    return max(rule.floor, mean + rule.z * math.sqrt(var)) * widen


def winsorised(count: float, limit: float) -> float:
    return min(count, WINSOR * limit) if limit > 0 else count

"""Prometheus metrics, one registry per app (no global state)."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

_STAGE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ztai_requests", "Requests by route and HTTP status", ["route", "status"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "ztai_decisions", "Decisions by effect and reason code", ["effect", "reason"],
            registry=self.registry,
        )
        self.stage_seconds = StageTimes(_STAGE_BUCKETS)
        self.registry.register(self.stage_seconds)
        self.policy_reloads = Counter(
            "ztai_policy_reloads", "Policy reloads by result", ["result"], registry=self.registry
        )
        self.policies_loaded = Gauge(
            "ztai_policies_loaded", "Policies in the active set", registry=self.registry
        )

        self._children: dict[tuple[str, ...], Any] = {}

    def count_request(self, route: str, status: int) -> None:
        self._child(self.requests, "r", route, str(status)).inc()

    def count_decision(self, effect: str, reason: str) -> None:
        self._child(self.decisions, "d", effect, reason).inc()

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stage_seconds.observe(stage, seconds)

    def _child(self, metric: Any, tag: str, *labels: str) -> Any:
        """Labelled children, looked up once: ``labels()`` costs microseconds per call."""
        key = (tag, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StageTimes(Collector):
    """The ``ztai_stage_seconds`` histogram, counted in plain lists: every request observes
    each of its stages, and prometheus_client's histogram takes a lock per bucket and sum
    (about 2 µs an observation, several per request)."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = tuple(sorted(bounds))
        self._rows: dict[str, list[float]] = {}  # per stage: a count per bucket, +Inf, the sum
        self._lock = threading.Lock()

    def observe(self, stage: str, seconds: float) -> None:
        with self._lock:
            row = self._rows.get(stage)
            if row is None:
                row = self._rows[stage] = [0] * (len(self._bounds) + 1) + [0.0]
            row[bisect_left(self._bounds, seconds)] += 1  # the first bound >= seconds
            row[-1] += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily("ztai_stage_seconds", "Time spent per pipeline stage",
                                       labels=["stage"])
        with self._lock:
            rows = {stage: list(row) for stage, row in self._rows.items()}
        for stage, row in sorted(rows.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*map(str, self._bounds), "+Inf"), row[:-1], strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            family.add_metric([stage], buckets, row[-1])
        yield family

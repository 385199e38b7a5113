"""Prometheus metrics, one registry per app (no global state)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
        self.stage_seconds = Histogram(
            "ztai_stage_seconds", "Time spent per pipeline stage", ["stage"],
            buckets=_STAGE_BUCKETS, registry=self.registry,
        )
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
        self._child(self.stage_seconds, "s", stage).observe(seconds)

    def _child(self, metric: Any, tag: str, *labels: str) -> Any:
        """Labelled children, looked up once: ``labels()`` costs microseconds per call."""
        key = (tag, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)

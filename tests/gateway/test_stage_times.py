"""The stage-time histogram ztai keeps itself: Prometheus semantics (cumulative ``le`` buckets,
a bound holds the values equal to it, ``+Inf`` holds all, ``_count`` and ``_sum``)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ztai.gateway.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, str, str], float]:
    family = next(f for f in text_string_to_metric_families(metrics.render().decode())
                  if f.name == "ztai_stage_seconds")
    return {(s.name, s.labels["stage"], s.labels.get("le", "")): s.value for s in family.samples}


def test_buckets_are_cumulative_and_bounds_inclusive() -> None:
    metrics = Metrics()
    for seconds in (0.00001, 0.00005, 0.0003, 0.0003, 2.0):
        metrics.observe_stage("authorize", seconds)
    metrics.observe_stage("verify", 0.002)
    samples = _samples(metrics)
    bucket = "ztai_stage_seconds_bucket"
    assert samples[(bucket, "authorize", "5e-05")] == 2  # 0.00005 counts in its own bound
    assert samples[(bucket, "authorize", "0.00025")] == 2
    assert samples[(bucket, "authorize", "0.0005")] == 4
    assert samples[(bucket, "authorize", "1.0")] == 4
    assert samples[(bucket, "authorize", "+Inf")] == 5
    assert samples[("ztai_stage_seconds_count", "authorize", "")] == 5
    assert abs(samples[("ztai_stage_seconds_sum", "authorize", "")] - 2.00066) < 1e-12
    assert samples[(bucket, "verify", "0.001")] == 0
    assert samples[(bucket, "verify", "0.0025")] == 1


def test_an_unobserved_stage_is_not_listed() -> None:
    assert not any(stage == "forward" for _, stage, _ in _samples(Metrics()))

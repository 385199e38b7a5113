"""Risk monitoring attached to a gateway built from settings: the admin API reviews alerts, and
with ``risk.in_serve`` the monitor runs as a background task of the server (off the request
path; its levels reach policies through the control state). Off when ``risk.enabled`` is
false."""

from __future__ import annotations

import dataclasses

from ztai.config.settings import Settings
from ztai.core.clock import Clock
from ztai.gateway.app import Parts
from ztai.monitoring.setup import build_monitor


def attach_monitor(parts: Parts, settings: Settings, clock: Clock | None = None) -> Parts:
    """``parts`` with the monitor's review in the admin API, its loop as a background task
    (when ``in_serve``) and its stores among the closers. Raises ``ConfigError``."""
    if not settings.risk.enabled:
        return parts
    monitor = build_monitor(settings, clock or parts.clock)
    if parts.admin is not None:
        parts.admin = dataclasses.replace(parts.admin, alerts=monitor.review)
    if settings.risk.in_serve:
        parts.background.append(monitor.loop.run)
    parts.closers.append(monitor.close)
    return parts

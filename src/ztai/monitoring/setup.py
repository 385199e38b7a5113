"""The monitor assembled from settings on the SQLite database the gateway writes: its stores,
the alert sinks, the pseudonym key. Problems stop the start with a ``ConfigError`` naming the
setting. Used by ``ztai serve`` (a background task) and ``ztai risk``."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from ztai.config.settings import ConfigError, RiskSettings, Settings
from ztai.core.clock import Clock, SystemClock
from ztai.core.secret import Secret
from ztai.monitoring.delivery import DeliveryOptions, Dispatcher
from ztai.monitoring.engine import PeerGroup, kind_group
from ztai.monitoring.loop import RiskLoop
from ztai.monitoring.observe import Catalogue
from ztai.monitoring.peers import DirectoryGroups
from ztai.monitoring.pseudonym import Pseudonymizer, load_key
from ztai.monitoring.review import AlertReview
from ztai.monitoring.scoring import ScoringOptions, Thresholds
from ztai.monitoring.service import MonitorConfig, MonitorStores, RiskService
from ztai.monitoring.sinks.interface import AlertSink
from ztai.monitoring.sinks.syslog import SyslogOptions, SyslogSink
from ztai.monitoring.sinks.webhook import WebhookOptions, WebhookSink
from ztai.storage.model import RiskLevel
from ztai.storage.sqlite import (
    SqliteAuditStore,
    SqliteControlStore,
    SqliteKeyStore,
    SqliteMonitorStore,
)


@dataclass(slots=True)
class Monitor:
    service: RiskService
    review: AlertReview
    loop: RiskLoop
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


def build_monitor(settings: Settings, clock: Clock | None = None) -> Monitor:
    clock = clock or SystemClock()
    database = settings.path(settings.storage.sqlite_path)
    audit, control = SqliteAuditStore(database), SqliteControlStore(database)
    keys, store = SqliteKeyStore(database), SqliteMonitorStore(database)
    pseudonyms = pseudonymizer(settings)
    risk = settings.risk
    dispatcher = Dispatcher(store, _sinks(risk), pseudonyms, DeliveryOptions(
        risk.sinks.max_attempts, risk.sinks.backoff_s, pseudonymise=risk.sinks.pseudonymise))
    peers: PeerGroup = DirectoryGroups(risk.peer_groups, keys, control) if risk.peer_groups \
        else kind_group
    service = RiskService(MonitorStores(audit, control, store), monitor_config(settings), clock,
                          peers, dispatcher)
    return Monitor(service, AlertReview(store, pseudonyms, clock),
                   RiskLoop(service, risk.interval_s),
                   [dispatcher.close, audit.close, control.close, keys.close, store.close])


def monitor_config(settings: Settings) -> MonitorConfig:
    risk, labels = settings.risk, settings.protection.labels
    if risk.sensitive_label not in labels:
        raise ConfigError(f"risk.sensitive_label: {risk.sensitive_label!r} is not one of "
                          f"protection.labels {list(labels)}")
    t = risk.thresholds
    scoring = ScoringOptions(
        thresholds=Thresholds(t.minor, t.moderate, t.elevated), half_life_s=risk.half_life_s,
        bucket_s=risk.bucket_s, learning_events=risk.learning_events,
        alert_level=RiskLevel(risk.alert_level))
    catalogue = Catalogue({m.name: m.tier for m in settings.models}, tuple(labels),
                          risk.sensitive_label, risk.work_hours, frozenset(risk.work_days))
    return MonitorConfig(catalogue, scoring, batch_size=risk.batch_size,
                         override_hold_s=risk.override_hold_s)


def pseudonymizer(settings: Settings) -> Pseudonymizer:
    path = settings.path(settings.risk.pseudonym_key)
    try:
        return Pseudonymizer(load_key(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"risk.pseudonym_key: cannot load {path}: {exc}") from exc


def _sinks(risk: RiskSettings) -> dict[str, AlertSink]:
    sinks: dict[str, AlertSink] = {}
    hook = risk.sinks.webhook
    if hook is not None:
        url = hook.url if hook.url is not None else _env(hook.url_env, "webhook.url_env")
        secret = _env(hook.signing_secret_env, "webhook.signing_secret_env") \
            if hook.signing_secret_env else None
        sinks["webhook"] = WebhookSink(WebhookOptions(
            Secret(url), hook.timeout_s, hook.format, Secret(secret) if secret else None))
    log = risk.sinks.syslog
    if log is not None:
        sinks["syslog"] = SyslogSink(SyslogOptions(
            log.host, log.port, log.protocol, log.facility, log.app_name, socket.gethostname(),
            log.timeout_s))
    return sinks


def _env(name: str | None, field_name: str) -> str:
    value = os.environ.get(name or "")
    if not value:
        raise ConfigError(f"risk.sinks.{field_name}: environment variable {name} is unset")
    return value

"""``ztai risk``: run the risk monitor, read and set risk levels, review alerts (pseudonymised;
unmasking and dismissing need a reason and are written to the audit log first)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.cli.context import ConfigOption, console, fail, format_time, settings_from
from ztai.cli.local_audit import operator, record_action
from ztai.config.settings import Settings
from ztai.core.clock import SystemClock
from ztai.core.errors import ZtaiError
from ztai.monitoring.alerting import alert_dict
from ztai.monitoring.ocsf import detection_finding
from ztai.monitoring.review import AlertView
from ztai.monitoring.setup import Monitor, build_monitor
from ztai.storage.model import AlertStatus, RiskLevel, RiskRecord
from ztai.storage.sqlite import SqliteControlStore

app = typer.Typer(help="Risk-adaptive protection: the monitor, levels, alerts.",
                  no_args_is_help=True)
StatusOption = Annotated[AlertStatus | None, typer.Option(help="Only alerts in this status")]
ReasonOption = Annotated[str, typer.Option(help="Why (recorded in the audit log)")]


@contextlib.contextmanager
def _monitor(settings: Settings) -> Iterator[Monitor]:
    try:
        monitor = build_monitor(settings)
    except ZtaiError as exc:
        fail(exc.message)
    try:
        yield monitor
    except ZtaiError as exc:
        fail(exc.message)
    finally:
        monitor.close()


@app.command()
def run(once: Annotated[bool, typer.Option(help="One step (catch up), then exit")] = False,
        config: ConfigOption = None) -> None:
    """Run the monitor as a service (Ctrl-C stops it): read the audit log, publish levels,
    deliver alerts. ``ztai serve`` runs it too unless risk.in_serve is false."""
    settings = settings_from(config)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with _monitor(settings) as monitor:
        if once:
            report = monitor.service.tick()
            console().print(f"{report.processed} events read, {report.published} levels changed,"
                            f" {report.delivery.delivered} alert deliveries; cursor "
                            f"{report.cursor}")
            return
        console().print(f"risk monitor running every {settings.risk.interval_s:g} s (Ctrl-C)")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(monitor.loop.run())


@app.command()
def levels(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
           config: ConfigOption = None) -> None:
    """Each principal's current risk level and who set it."""
    settings = settings_from(config)
    store = SqliteControlStore(settings.path(settings.storage.sqlite_path))
    records = sorted(store.risk_levels().values(), key=lambda r: r.principal)
    store.close()
    if as_json:
        for r in records:
            _line({"principal": r.principal, "level": r.level.value, "reason": r.reason,
                   "set_by": r.set_by, "at": r.at})
        return
    table = Table("principal", "level", "set by", "at", "reason")
    for r in records:
        table.add_row(r.principal, r.level.value, r.set_by, format_time(r.at), r.reason)
    console().print(table)


@app.command("set")
def set_level(principal: Annotated[str, typer.Argument(help="kind:id, e.g. user:adele")],
              level: RiskLevel, reason: ReasonOption, config: ConfigOption = None) -> None:
    """Override a principal's level by hand; it holds for risk.override_hold_s."""
    if principal.partition(":")[0] not in {"user", "agent", "service"} or ":" not in principal:
        fail("the principal must be kind:id with kind user, agent or service")
    if not reason.strip():
        fail("--reason must not be empty")
    settings = settings_from(config)
    store = SqliteControlStore(settings.path(settings.storage.sqlite_path))
    store.set_risk(RiskRecord(principal, level, reason, operator(), SystemClock().now()))
    store.close()
    record_action(settings, "risk.set", {"target": principal, "level": level.value,
                                         "reason": reason})
    console().print(f"{principal} is now {level.value}")


@app.command()
def alerts(status: StatusOption = None,
           limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
           as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
           config: ConfigOption = None) -> None:
    """Alerts, newest first, with principals pseudonymised."""
    with _monitor(settings_from(config)) as monitor:
        views = monitor.review.list(status, limit)
    if as_json:
        for view in views:
            _line(alert_dict(view.alert))
        return
    table = Table("alert", "principal", "level", "score", "status", "raised", "indicators")
    for view in views:
        a = view.alert
        table.add_row(a.alert_id, a.principal, a.level.value, f"{a.score:g}", a.status.value,
                      format_time(a.raised_at),
                      ", ".join(f"{k} {v:g}" for k, v in a.indicators.items()))
    console().print(table)


@app.command()
def show(alert_id: str,
         unmask: Annotated[bool, typer.Option(help="Show who it is (needs --reason)")] = False,
         reason: Annotated[str, typer.Option(help="Why you unmask (audited)")] = "",
         config: ConfigOption = None) -> None:
    """One alert with its evidence events (audit seqs) and deliveries, as JSON."""
    settings = settings_from(config)
    with _monitor(settings) as monitor:
        if unmask:
            view = monitor.review.unmask(alert_id, reason)
            record_action(settings, "risk.unmask", {"alert_id": alert_id, "reason": reason,
                                                    "subject": view.alert.principal})
        else:
            view = monitor.review.show(alert_id)
    _line(_detail(view))


@app.command()
def dismiss(alert_id: str, reason: ReasonOption, config: ConfigOption = None) -> None:
    """Dismiss an open alert as a false positive; the monitor clears the score next step."""
    settings = settings_from(config)
    with _monitor(settings) as monitor:
        view = monitor.review.dismiss(alert_id, operator(), reason)
    record_action(settings, "risk.dismiss", {"alert_id": alert_id, "reason": reason})
    console().print(f"dismissed {alert_id} ({view.pseudonym})")


@app.command()
def export(status: StatusOption = None,
           out: Annotated[Path | None, typer.Option(help="File (default: stdout)")] = None,
           limit: Annotated[int, typer.Option(min=1, max=1000)] = 1000,
           config: ConfigOption = None) -> None:
    """Alerts as OCSF Detection Findings (class 2004), one JSON object per line, pseudonymised."""
    with _monitor(settings_from(config)) as monitor:
        lines = [orjson.dumps(detection_finding(v.alert)) + b"\n"
                 for v in monitor.review.list(status, limit)]
    if out is None:
        sys.stdout.write(b"".join(lines).decode())
    else:
        out.write_bytes(b"".join(lines))
        console().print(f"wrote {len(lines)} findings to {out}")


def _detail(view: AlertView) -> dict[str, object]:
    return {**alert_dict(view.alert), "masked": view.masked, "pseudonym": view.pseudonym,
            "deliveries": [{"sink": d.sink, "revision": d.revision, "status": d.status.value,
                            "attempts": d.attempts, "last_error": d.last_error}
                           for d in view.deliveries]}


def _line(data: object) -> None:
    sys.stdout.write(orjson.dumps(data).decode() + "\n")

"""Alerts as RFC 5424 syslog messages over UDP (one datagram, RFC 5426) or TCP (octet-counted
frames, RFC 6587), with the alert in structured data under ``ztai@32473`` (32473 is the
example enterprise number of RFC 5612). A new TCP connection per alert: alerts are rare."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass
from typing import Literal

from ztai.monitoring.alerting import summary
from ztai.monitoring.sinks.interface import SinkError
from ztai.storage.model import AlertRecord, AlertStatus, RiskLevel

MAX_DATAGRAM = 2048  # RFC 5426: receivers should accept 2048 octets
_SEVERITY = {RiskLevel.NONE: 6, RiskLevel.MINOR: 5, RiskLevel.MODERATE: 4,
             RiskLevel.ELEVATED: 2}  # informational, notice, warning, critical


@dataclass(frozen=True, slots=True)
class SyslogOptions:
    host: str
    port: int = 514
    protocol: Literal["udp", "tcp"] = "udp"
    facility: int = 16  # local0
    app_name: str = "ztai"
    hostname: str = "-"
    timeout_s: float = 5.0


class SyslogSink:
    def __init__(self, options: SyslogOptions) -> None:
        self._o = options

    def send(self, alert: AlertRecord) -> None:
        message = rfc5424(alert, self._o)
        try:
            if self._o.protocol == "udp":
                with socket.socket(_family(self._o.host), socket.SOCK_DGRAM) as sock:
                    sock.sendto(message[:MAX_DATAGRAM], (self._o.host, self._o.port))
            else:
                with socket.create_connection((self._o.host, self._o.port),
                                              timeout=self._o.timeout_s) as sock:
                    sock.sendall(f"{len(message)} ".encode() + message)
        except OSError as exc:
            raise SinkError(f"syslog: {type(exc).__name__}: {exc.strerror or exc}") from None

    def close(self) -> None:
        return None


def rfc5424(alert: AlertRecord, options: SyslogOptions) -> bytes:
    """``<PRI>1 TIMESTAMP HOST APP - risk-alert [ztai@32473 ...] MSG``."""
    severity = 6 if alert.status is not AlertStatus.OPEN else _SEVERITY[alert.level]
    stamp = dt.datetime.fromtimestamp(alert.updated_at, dt.UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    params = {"alert": alert.alert_id, "revision": str(alert.revision),
              "status": alert.status.value, "level": alert.level.value,
              "principal": alert.principal, "score": f"{alert.score:g}",
              "evidence": ",".join(str(e.seq) for e in alert.evidence[-20:])}
    data = " ".join(f'{k}="{_escape(v)}"' for k, v in params.items())
    text = (f"risk {alert.level.value} ({alert.status.value}) for {alert.principal}: "
            f"{summary(dict(alert.indicators))}")
    header = f"<{options.facility * 8 + severity}>1 {stamp} {_token(options.hostname)} " \
             f"{_token(options.app_name)} - risk-alert [ztai@32473 {data}] "
    return (header + text).encode("utf-8")


def _escape(value: str) -> str:
    """RFC 5424 §6.3.3: '"', '\\' and ']' are escaped in a PARAM-VALUE."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _token(value: str) -> str:
    """HOSTNAME and APP-NAME are printable ASCII without spaces, or "-"."""
    cleaned = "".join(c for c in value if 33 <= ord(c) <= 126)[:48]
    return cleaned or "-"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET

"""An alert sink: one method that sends an alert or raises ``SinkError``. Sinks run in the
control plane with bounded timeouts; the dispatcher records every failure and retries."""

from __future__ import annotations

from typing import Protocol

from ztai.storage.model import AlertRecord


class SinkError(Exception):
    """The alert was not delivered. The message is recorded: it never holds a secret (no URL,
    no header), only what went wrong."""


class AlertSink(Protocol):
    def send(self, alert: AlertRecord) -> None:
        """Deliver ``alert`` (already pseudonymised where configured) or raise ``SinkError``."""
        ...

    def close(self) -> None: ...

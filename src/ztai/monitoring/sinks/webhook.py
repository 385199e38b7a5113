"""Alerts POSTed as JSON to a webhook (a SOAR, a chat bridge): ztai's own alert shape or an
OCSF Detection Finding, optionally signed with HMAC-SHA256 over the body
(``x-ztai-signature: sha256=<hex>``). The URL may hold a secret, so errors never name it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

import httpx
import orjson

from ztai.core.secret import Secret
from ztai.monitoring.alerting import alert_dict
from ztai.monitoring.ocsf import detection_finding
from ztai.monitoring.sinks.interface import SinkError
from ztai.storage.model import AlertRecord


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    url: Secret
    timeout_s: float = 5.0
    format: Literal["ztai", "ocsf"] = "ztai"
    signing_secret: Secret | None = None


class WebhookSink:
    def __init__(self, options: WebhookOptions,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._o = options
        self._client = httpx.Client(timeout=options.timeout_s, transport=transport,
                                    follow_redirects=False)

    def send(self, alert: AlertRecord) -> None:
        payload = detection_finding(alert) if self._o.format == "ocsf" else {
            "type": "ztai.risk_alert", "alert": alert_dict(alert)}
        body = orjson.dumps(payload)
        headers = {"content-type": "application/json", "user-agent": "ztai-risk"}
        if self._o.signing_secret is not None:
            mac = hmac.new(self._o.signing_secret.reveal().encode(), body, hashlib.sha256)
            headers["x-ztai-signature"] = "sha256=" + mac.hexdigest()
        try:
            response = self._client.post(self._o.url.reveal(), content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SinkError(f"webhook: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise SinkError(f"webhook: HTTP {response.status_code}")

    def close(self) -> None:
        self._client.close()

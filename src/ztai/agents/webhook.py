"""Telling approvers about a held call by webhook: a signed JSON POST (HMAC-SHA256 over the
timestamp and the body, with a shared secret), bounded in time, retried on transient failures.
The approver answers through the admin API's approve and deny links."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass

import httpx
import orjson

from ztai.core.clock import Clock
from ztai.core.errors import ZtaiError
from ztai.core.secret import Secret
from ztai.storage.model import HeldCall

SIGNATURE_HEADER = "x-ztai-signature"
TIMESTAMP_HEADER = "x-ztai-timestamp"
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class NotifyFailed(ZtaiError):
    """The webhook did not accept the notice. The message never names the URL or the secret."""

    code = "notify_failed"


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """``links_base`` is the gateway's public URL, where the approve and deny links point."""

    url: str
    secret: Secret
    links_base: str = "http://127.0.0.1:8080"
    timeout_s: float = 5.0
    retries: int = 2
    backoff_s: float = 0.5


class WebhookNotifier:
    """``await notifier(call)`` posts the notice; raises ``NotifyFailed`` once every attempt
    failed (a connection error, a timeout, or a status other than 2xx; only transient
    statuses and transport errors are retried)."""

    def __init__(self, options: WebhookOptions, clock: Clock,
                 client: httpx.AsyncClient | None = None) -> None:
        self._options, self._clock = options, clock
        self._client = client or httpx.AsyncClient(follow_redirects=False)

    async def __call__(self, call: HeldCall) -> None:
        body = notice(call, self._options.links_base)
        last = "no attempt was made"
        for attempt in range(self._options.retries + 1):
            if attempt:
                await asyncio.sleep(self._options.backoff_s * 2 ** (attempt - 1))
            try:
                response = await self._client.post(
                    self._options.url, content=body, headers=self._headers(body),
                    timeout=self._options.timeout_s)
            except httpx.HTTPError as exc:
                last = type(exc).__name__
                continue
            if response.is_success:
                return
            last = f"status {response.status_code}"
            if response.status_code not in _RETRY_STATUSES:
                break
        raise NotifyFailed(f"approval webhook failed for held call {call.id}: {last}")

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(self._clock.now()))
        return {"content-type": "application/json", TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self._options.secret, timestamp, body)}


def notice(call: HeldCall, links_base: str) -> bytes:
    """The JSON the webhook receives: what waits, for whom, until when, and where to answer."""
    base = f"{links_base.rstrip('/')}/admin/approvals/{call.id}"
    return orjson.dumps({
        "id": call.id, "principal": call.principal, "chain": list(call.chain),
        "action": call.action, "resource": call.resource, "summary": dict(call.summary),
        "expires_at": call.expires_at, "approve_url": f"{base}/approve",
        "deny_url": f"{base}/deny"})


def sign(secret: Secret, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp.body`` (binding the time against replay)."""
    mac = hmac.new(secret.reveal().encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def is_signed(secret: Secret, timestamp: str, body: bytes, signature: str, now: float,
              tolerance_s: float = 300.0) -> bool:
    """For receivers: the signature matches and the timestamp is within ``tolerance_s``."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)

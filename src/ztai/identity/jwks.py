"""An identity provider's JWKS fetched over HTTPS: cached for a TTL (``Cache-Control: max-age``
or configured), refetched when a token names an unknown ``kid`` but at most once per interval,
and failing closed once no cached key may be used."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import orjson
from joserfc.jwk import Key

from ztai.core.clock import Clock
from ztai.identity.failure import AuthCode, auth_failure
from ztai.identity.keyset import parse_jwks

_log = logging.getLogger(__name__)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d{1,9})\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class JwksConfig:
    """Where and how often to fetch. HTTPS only, except to a loopback address (tests, sidecars).

    ``ttl_s`` applies when the response has no ``max-age``; any TTL is kept within
    [``min_refresh_interval_s``, ``max_ttl_s``]. At most one fetch per ``min_refresh_interval_s``
    whatever tokens arrive. While the endpoint fails, cached keys stay usable ``max_stale_s``
    past their TTL; then verification fails closed.
    """

    url: str
    ttl_s: float = 300.0
    max_ttl_s: float = 86_400.0
    min_refresh_interval_s: float = 30.0
    max_stale_s: float = 3_600.0
    timeout_s: float = 5.0
    max_bytes: int = 262_144

    def __post_init__(self) -> None:
        if not is_allowed_url(self.url):
            raise ValueError("a JWKS URL must be https:// (http:// only to a loopback address)")
        if min(self.ttl_s, self.min_refresh_interval_s, self.max_stale_s) < 0:
            raise ValueError("JWKS intervals must not be negative")


def is_allowed_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and _is_loopback(parts.hostname or "")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class JwksFetchError(Exception):
    """The endpoint could not give a usable key set (the reason is logged, never shown)."""


class RemoteJwksSource:
    """A ``KeySource`` over HTTP. The caller owns ``client`` (one shared ``httpx.AsyncClient``,
    closed at shutdown); tests pass one with an injected transport."""

    def __init__(self, config: JwksConfig, client: httpx.AsyncClient, clock: Clock) -> None:
        self._config = config
        self._client = client
        self._clock = clock
        self._keys: tuple[Key, ...] | None = None
        self._fresh_until = 0.0
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Sequence[Key]:
        if self._keys is not None and self._clock.monotonic() < self._fresh_until:
            return self._keys
        return await self._reload(forced=False)

    async def refresh(self) -> Sequence[Key]:
        return await self._reload(forced=True)

    async def _reload(self, *, forced: bool) -> Sequence[Key]:
        async with self._lock:
            now = self._clock.monotonic()
            if not forced and self._keys is not None and now < self._fresh_until:
                return self._keys  # another request refreshed while this one waited
            if not self._may_fetch(now):
                return self._usable(now)
            self._last_attempt = now
            try:
                keys, ttl = await self._fetch()
            except JwksFetchError as error:
                _log.warning("JWKS fetch from %s failed: %s", self._config.url, error)
                return self._usable(now)
            self._keys, self._fresh_until = keys, now + ttl
            return keys

    def _may_fetch(self, now: float) -> bool:
        last = self._last_attempt
        return last is None or now - last >= self._config.min_refresh_interval_s

    def _usable(self, now: float) -> Sequence[Key]:
        if self._keys is None or now >= self._fresh_until + self._config.max_stale_s:
            raise auth_failure(AuthCode.KEYS_UNAVAILABLE)
        return self._keys

    async def _fetch(self) -> tuple[tuple[Key, ...], float]:
        try:
            body, cache_control = await self._download()
            keys = tuple(parse_jwks(orjson.loads(body)))
        except (httpx.HTTPError, ValueError) as error:
            raise JwksFetchError(type(error).__name__) from error
        if not keys:
            raise JwksFetchError("no usable key in the set")
        return keys, self._ttl(cache_control)

    async def _download(self) -> tuple[bytes, str]:
        request = self._client.stream("GET", self._config.url, timeout=self._config.timeout_s)
        async with request as response:
            if response.status_code != httpx.codes.OK:
                raise JwksFetchError(f"status {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._config.max_bytes:
                    raise JwksFetchError("key set too large")
            return bytes(body), response.headers.get("cache-control", "")

    def _ttl(self, cache_control: str) -> float:
        match = _MAX_AGE.search(cache_control)
        ttl = float(match.group(1)) if match else self._config.ttl_s
        return min(max(ttl, self._config.min_refresh_interval_s), self._config.max_ttl_s)

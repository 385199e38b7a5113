"""The aiohttp session an ``OpenAIUpstream`` talks through: one connection pool per upstream, our
``Timeouts`` and ``Pool`` mapped onto aiohttp's, no cookies, no proxy settings from the
environment. Build it inside the running loop: an aiohttp session binds to its loop."""

from __future__ import annotations

import aiohttp

from ztai.upstream.model import Pool, Timeouts

DNS_CACHE_SECONDS = 30


def new_session(pool: Pool) -> aiohttp.ClientSession:
    """A session with no default headers or timeout: each request passes its own."""
    connector = aiohttp.TCPConnector(
        limit=pool.max_connections, limit_per_host=pool.max_connections,
        keepalive_timeout=pool.keepalive_expiry, ttl_dns_cache=DNS_CACHE_SECONDS)
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True,
        raise_for_status=False, trust_env=False, timeout=aiohttp.ClientTimeout())


def send_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """For a whole non-streamed call: ``total`` bounds it from connect to the last body byte."""
    return _timeout(timeouts, timeouts.total)


def stream_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """For a streamed call, which may last as long as the provider keeps sending: no total, but
    ``read`` bounds each wait for bytes, so a stalled stream times out."""
    return _timeout(timeouts, None)


def _timeout(timeouts: Timeouts, total: float | None) -> aiohttp.ClientTimeout:
    # aiohttp's ``connect`` covers waiting for a free pooled connection and opening a new one.
    return aiohttp.ClientTimeout(total=total, connect=timeouts.pool + timeouts.connect,
                                 sock_connect=timeouts.connect, sock_read=timeouts.read)

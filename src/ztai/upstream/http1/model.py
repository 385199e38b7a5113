"""Requests as values, prepared once per upstream: where they go (``Origin``) and their head up
to the content length, with header names and values checked so that configuration cannot
smuggle a second request or change the framing."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ztai.upstream.model import Timeouts

DEFAULT_PORTS = {"http": 80, "https": 443}
RESERVED_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
    "upgrade", "expect", "proxy-connection", "accept-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_TARGET = re.compile(r"/[\x21-\x7e]*")


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """``head`` holds the request line and headers (credentials included: it stays out of the
    repr); the client adds ``content-length`` and the body."""

    origin: Origin
    head: bytes = field(repr=False)


def prepare_post(url: str, headers: Mapping[str, str]) -> PreparedRequest:
    """A POST to ``url`` (http or https, no credentials in it) with ``headers``. Raises
    ``ValueError`` for anything else, or for a header that is malformed or that the client
    owns (framing, connection management, content coding)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("only http and https URLs with a host are supported")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not supported")
    origin = Origin(parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme])
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not _TARGET.fullmatch(target):
        raise ValueError("the URL's path and query must be percent-encoded")
    lines = [f"POST {target} HTTP/1.1", f"host: {_host_header(origin)}",
             *(_header_line(name, value) for name, value in headers.items()),
             "accept-encoding: identity", ""]
    return PreparedRequest(origin, "\r\n".join(lines).encode("latin-1"))


def _host_header(origin: Origin) -> str:
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return host if DEFAULT_PORTS[origin.scheme] == origin.port else f"{host}:{origin.port}"


def _header_line(name: str, value: str) -> str:
    if not _TOKEN.fullmatch(name) or name.lower() in RESERVED_HEADERS:
        raise ValueError(f"header {name!r} cannot be set")
    if not _FIELD_VALUE.fullmatch(value):
        raise ValueError(f"header {name!r} has a malformed value")  # the value may be a secret
    return f"{name}: {value}"


@dataclass(frozen=True, slots=True)
class Budget:
    """How long each wait of one exchange may take: its own timeout, and never past the
    deadline of the whole exchange (``time.monotonic()`` seconds; None: no deadline)."""

    timeouts: Timeouts
    deadline: float | None

    @classmethod
    def start(cls, timeouts: Timeouts, total: float | None) -> Budget:
        return cls(timeouts, None if total is None else time.monotonic() + total)

    def left(self, limit: float) -> float:
        return limit if self.deadline is None else min(limit, self.deadline - time.monotonic())

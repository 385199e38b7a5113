"""Where a request came from. The peer address is the client unless the peer is a trusted
proxy; then X-Forwarded-For is read from the right, skipping trusted proxies, and the first
untrusted hop is the client. Forwarded client-certificate attributes count only from a trusted
proxy, so a client cannot forge them."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from starlette.types import Scope

from ztai.core.flow import RequestMeta
from ztai.core.secret import Secret

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
CERT_HEADERS = {b"x-client-cert-subject": "subject", b"x-client-cert-verified": "verified",
                b"x-client-cert-fingerprint": "fingerprint"}
MAX_FORWARDED_HOPS = 16
JUSTIFICATION_HEADER = b"x-ztai-justification"
MAX_JUSTIFICATION_CHARS = 500
SESSION_HEADER = b"x-ztai-session"
MAX_SESSION_CHARS = 128


@dataclass(frozen=True, slots=True)
class MetaReader:
    trusted_proxies: Sequence[Network] = ()
    device_header: bytes = b"x-ztai-device"
    wanted: frozenset[bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the headers read per request, built once rather than for every header of every request
        wanted = frozenset({b"x-forwarded-for", self.device_header, JUSTIFICATION_HEADER,
                            SESSION_HEADER, *CERT_HEADERS})
        object.__setattr__(self, "wanted", wanted)

    @classmethod
    def from_cidrs(cls, cidrs: Iterable[str], device_header: str) -> MetaReader:
        return cls(tuple(ipaddress.ip_network(c, strict=False) for c in cidrs),
                   device_header.lower().encode())

    def read(self, scope: Scope) -> RequestMeta:
        headers = {k: v for k, v in scope.get("headers", ()) if k in self.wanted}
        peer = (scope.get("client") or ("", 0))[0]
        trusted = self._is_trusted(peer)
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
        client = self._client(peer, forwarded) if trusted else peer
        device = headers.get(self.device_header)
        cert = ({name: headers[h].decode("latin-1") for h, name in CERT_HEADERS.items()
                 if h in headers} if trusted else {})
        return RequestMeta(client, Secret(device.decode("latin-1")) if device else None, cert,
                           justification(headers.get(JUSTIFICATION_HEADER, b"")),
                           agent_run(headers.get(SESSION_HEADER, b"")))

    def _client(self, peer: str, forwarded: str) -> str:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()][-MAX_FORWARDED_HOPS:]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop if _is_ip(hop) else peer
        return hops[0] if hops and _is_ip(hops[0]) else peer

    def _is_trusted(self, address: str) -> bool:
        if not self.trusted_proxies:
            return False
        ip = parse_ip(address)
        return ip is not None and any(ip in network for network in self.trusted_proxies)


def justification(raw: bytes) -> str | None:
    """The caller's stated reason (UTF-8, control characters dropped, at most 500 characters);
    None when blank, so an empty header never counts as a justification."""
    return _printable(raw, MAX_JUSTIFICATION_CHARS)


def agent_run(raw: bytes) -> str | None:
    """The agent run a caller names (``X-Ztai-Session``): printable, at most 128 characters;
    read alike on every route, so that a run's MCP and model calls share one session."""
    return _printable(raw, MAX_SESSION_CHARS)


def _printable(raw: bytes, limit: int) -> str | None:
    text = "".join(c for c in raw.decode("utf-8", "replace") if c.isprintable()).strip()
    return text[:limit] or None


def network_name(ip: str, ranges: Mapping[str, Sequence[Network]]) -> str:
    """The first named range holding ``ip``; ``external`` for none, ``unknown`` if unparsable."""
    address = parse_ip(ip)
    if address is None:
        return "unknown"
    for name, networks in ranges.items():
        if any(address in network for network in networks):
            return name
    return "external"


def _is_ip(text: str) -> bool:
    return parse_ip(text) is not None


@functools.lru_cache(maxsize=1024)
def parse_ip(text: str) -> Address | None:
    """The address ``text`` spells, None if it is none. Remembered: the same few peers send
    nearly every request, and parsing costs more than the rest of reading who sent one."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None

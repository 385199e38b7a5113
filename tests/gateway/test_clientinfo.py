"""Client address and forwarded certificate attributes: trusted proxies only."""

from __future__ import annotations

import ipaddress

import pytest

from ztai.gateway.clientinfo import MetaReader, network_name


def scope(peer: str, **headers: str) -> dict[str, object]:
    return {"client": (peer, 5000),
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


READER = MetaReader.from_cidrs(["10.9.0.0/16"], "x-ztai-device")


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.5", "", "203.0.113.5"),                       # no proxy
    ("203.0.113.5", "1.2.3.4", "203.0.113.5"),                # untrusted peer: XFF ignored
    ("10.9.0.1", "1.2.3.4", "1.2.3.4"),                       # trusted proxy
    ("10.9.0.1", "6.6.6.6, 1.2.3.4, 10.9.0.2", "1.2.3.4"),    # rightmost untrusted hop
    ("10.9.0.1", "10.9.0.3, 10.9.0.2", "10.9.0.3"),           # all trusted: the origin
    ("10.9.0.1", "not-an-ip", "10.9.0.1"),                    # garbage: keep the peer
])
def test_client_ip(peer: str, forwarded: str, client: str) -> None:
    headers = {"x_forwarded_for": forwarded} if forwarded else {}
    assert READER.read(scope(peer, **headers)).client_ip == client


def test_certificate_headers_count_only_from_trusted_proxies() -> None:
    forged = READER.read(scope("203.0.113.5", x_client_cert_verified="SUCCESS"))
    real = READER.read(scope("10.9.0.1", x_client_cert_verified="SUCCESS"))
    assert forged.client_cert == {}
    assert real.client_cert == {"verified": "SUCCESS"}


def test_device_claim_is_kept_secret() -> None:
    meta = READER.read(scope("1.1.1.1", x_ztai_device="eyJ.abc.def"))
    assert meta.device_claim is not None
    assert "eyJ" not in repr(meta)


def test_the_agent_run_is_read_printable_and_bounded() -> None:
    assert READER.read(scope("1.1.1.1", x_ztai_session=" run-1 ")).session == "run-1"
    assert READER.read(scope("1.1.1.1", x_ztai_session="r\x00\x1bun")).session == "run"
    assert READER.read(scope("1.1.1.1", x_ztai_session="x" * 500)).session == "x" * 128
    assert READER.read(scope("1.1.1.1", x_ztai_session="  ")).session is None
    assert READER.read(scope("1.1.1.1")).session is None


def test_network_names() -> None:
    ranges = {"corp": (ipaddress.ip_network("10.0.0.0/8"),),
              "vpn": (ipaddress.ip_network("192.168.0.0/16"),)}
    assert network_name("10.1.1.1", ranges) == "corp"
    assert network_name("192.168.3.3", ranges) == "vpn"
    assert network_name("8.8.8.8", ranges) == "external"
    assert network_name("", ranges) == "unknown"

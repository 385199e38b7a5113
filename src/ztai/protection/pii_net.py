"""Detectors for network identifiers tied to a person: e-mail addresses and IP addresses (v4 with
octet ranges, v6 checked by the standard library's parser)."""

from __future__ import annotations

import ipaddress

from ztai.protection.model import Match
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_scan import DIGITS, compile_pattern, find, has_digit

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = rf"[A-Za-z0-9][A-Za-z0-9._%+'-]{{0,63}}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,24}}"
_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_IPV6 = r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|" + _IPV4 + r")?"
_IP = _IPV6 + "|" + _IPV4
_MIN_IPV6_GROUPS = 3


class EmailDetector:
    """E-mail addresses with an ASCII local part and a dotted domain."""

    name = "pii.email"
    prefilter = _EMAIL  # PiiDetector runs it only where this matches
    anchors = "@"  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_EMAIL)

    def detect(self, text: str) -> list[Match]:
        if "@" not in text:
            return []
        return find(PiiKind.EMAIL, self.name, self._pattern, text, _is_email)


class IpAddressDetector:
    """IPv4 and IPv6 addresses; IPv6 needs three non-empty groups so ``std::`` never matches."""

    name = "pii.ip_address"
    prefilter = _IP  # PiiDetector runs it only where this matches
    anchors = DIGITS + ":"  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_IP)

    def detect(self, text: str) -> list[Match]:
        if text.count(":") < 2 and not has_digit(text):  # v6 needs two colons, v4 digits
            return []
        return find(PiiKind.IP_ADDRESS, self.name, self._pattern, text, _is_ip)


def _is_email(value: str) -> bool:
    local = value.partition("@")[0]
    return ".." not in value and not local.endswith(".")


def _is_ip(value: str) -> bool:
    if ":" in value and sum(1 for group in value.split(":") if group) < _MIN_IPV6_GROUPS:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True

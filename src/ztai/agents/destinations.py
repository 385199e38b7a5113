"""Where a tool call sends things: the e-mail domains and web hosts named in its arguments.
A destination outside the organisation's own domains makes the call an outbound data flow,
which policies weigh with the session's taint (``external_destinations``).

Arguments are attacker-influenced text, so matching is linear-time (RE2) and bounded: at most
``MAX_SCANNED`` characters of each value are looked at and at most ``MAX_DESTINATIONS`` kept."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import re2

MAX_SCANNED = 65_536
MAX_DESTINATIONS = 64

# a host name's label: anything but separators, so that look-alike and other-script names
# (``evіl.example`` with a Cyrillic і, IDNs) are destinations too, not cut short
_LABEL = r"[^\s@<>()\[\]{},;:\"'`/\\?#.|!*=&%$^~+]{1,63}"
_EMAIL = re2.compile(r"[^\s@<>()\[\]{},;:\"'`/\\]{1,64}@(" + _LABEL + r"(?:\." + _LABEL + r")+)")
# any scheme: http(s), ftp, ws(s), but also sftp, ssh, smtp, s3, git...
_URL = re2.compile(r"(?i)\b[a-z][a-z0-9+.\-]{0,31}://(?:[^\s/@?#]{0,256}@)?"
                   r"(" + _LABEL + r"(?:\." + _LABEL + r")*)")


@dataclass(frozen=True, slots=True)
class Destinations:
    domains: tuple[str, ...]  # sorted, lower case
    external: tuple[str, ...]  # those outside the internal domains

    @property
    def any_external(self) -> bool:
        return bool(self.external)


class DestinationFinder:
    def __init__(self, internal_domains: Iterable[str]) -> None:
        self._internal = tuple(sorted({d.lower().strip(".") for d in internal_domains if d}))

    def find(self, values: Iterable[str]) -> Destinations:
        found: set[str] = set()
        for value in values:
            # compatibility forms folded first: a full-width ＠ or ． is an @ or a . to a mail
            # server that normalises, and must be to this finder too
            text = unicodedata.normalize("NFKC", value[:MAX_SCANNED])
            if "@" not in text and "://" not in text:
                continue
            for pattern in (_EMAIL, _URL):
                for match in pattern.finditer(text):
                    found.add(match.group(1).lower().rstrip("."))
                    if len(found) >= MAX_DESTINATIONS:
                        break
        domains = tuple(sorted(found))
        return Destinations(domains, tuple(d for d in domains if not self.internal(d)))

    def internal(self, domain: str) -> bool:
        """``mail.corp.example`` is inside ``corp.example``; ``corp.example.evil`` is not."""
        return any(domain == d or domain.endswith("." + d) for d in self._internal)

"""Built-in secret formats that need more than a vendor prefix: PEM private keys (the whole
BEGIN…END block, or header and body when the END is missing), JWTs (three base64url segments
whose header decodes to JSON naming an ``alg``) and connection strings that carry a password
(``scheme://user:password@host`` and ``Server=…;Password=…``), placeholders excepted."""

from __future__ import annotations

import base64
import json

import re2

from ztai.protection.secrets_text import ByteMatch, ScanText

PRIVATE_KEY = "secret.private-key"
JWT = "secret.jwt"
CONNECTION_STRING = "secret.connection-string"

_PEM = (
    r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:(?:[^-]|-[^-])*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
    r"|[A-Za-z0-9+/=\s\\]*[A-Za-z0-9+/=])"
)
_JWT = r"(?:^|[^A-Za-z0-9_.-])(eyJ[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"
_SCHEMES = (
    r"postgres(?:ql)?|mysql|mariadb|mongodb|rediss?|amqps?|mssql|sqlserver|oracle|db2|"
    r"cockroachdb|clickhouse|couchdb|neo4j|nats|kafka|ldaps?|s?ftp|ftps|smtps?|imaps?|"
    r"https?"
)
_URL = (
    rf"(?i)\b(?:{_SCHEMES})(?:\+[a-z0-9]+)?://[^\s:@/?#'\"<>]{{0,256}}:"
    r"([^\s@/?#'\"<>]{1,256})@[A-Za-z0-9._\[\]-]"
)
_KEY_VALUE = (
    r"(?i)\b(?:server|data source|host|address|addr)\s*=[^;\r\n]{1,256};"
    r"[^\r\n]*?\b(?:password|pwd)\s*=\s*['\"]?([^;\r\n'\"]{1,256})"
)
_PLACEHOLDER = (
    r"^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{[^}]*\}\}|%s|%\([A-Za-z_]+\)s|"
    r"\*+|x+|X+|\.+)$"
)
_MIN_KEY_BODY = 64  # base64 characters; a real key has hundreds, a doc example has "..."
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64 = bytes(sorted(set(range(256)) - set(_BASE64)))


class PrivateKeyScanner:
    def __init__(self) -> None:
        self._pattern = re2.compile(_PEM)

    def scan(self, text: ScanText) -> list[ByteMatch]:
        if b"-----BEGIN" not in text.data:  # the pattern's first literal
            return []
        return [
            ByteMatch(PRIVATE_KEY, m.start(), m.end(), 1.0, "secrets.private-key")
            for m in self._pattern.finditer(text.data)
            if _has_key_body(m.group())
        ]


def _has_key_body(block: bytes) -> bool:
    start = block.find(b"-----", block.find(b"PRIVATE KEY")) + 5
    end = block.find(b"-----END", start)
    body = block[start : end if end >= 0 else len(block)]
    return len(body.translate(None, _NOT_BASE64)) >= _MIN_KEY_BODY


class JwtScanner:
    def __init__(self) -> None:
        self._pattern = re2.compile(_JWT)

    def scan(self, text: ScanText) -> list[ByteMatch]:
        if b"eyJ" not in text.data:  # every token starts with it
            return []
        return [
            ByteMatch(JWT, m.start(1), m.end(), 1.0, "secrets.jwt")
            for m in self._pattern.finditer(text.data)
            if has_jose_header(m.group(1))
        ]


def has_jose_header(segment: bytes) -> bool:
    """The base64url segment decodes to a JSON object with a string ``alg``. Linear in the
    segment, and segments of different matches do not overlap."""
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))
    except (ValueError, RecursionError):  # not base64, not UTF-8, not JSON, absurdly nested
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


class ConnectionStringScanner:
    """The span is the password only, so redaction keeps the scheme, user and host."""

    def __init__(self) -> None:
        self._url = re2.compile(_URL)
        self._key_value = re2.compile(_KEY_VALUE)
        self._placeholder = re2.compile(_PLACEHOLDER)

    def scan(self, text: ScanText) -> list[ByteMatch]:
        data = text.data
        found = (m for pattern in self._patterns_for(data) for m in pattern.finditer(data))
        return [
            ByteMatch(
                CONNECTION_STRING,
                m.start(1),
                m.start(1) + len(password),
                1.0,
                "secrets.connection-string",
            )
            for m in found
            if (password := m.group(1).rstrip()) and not self._placeholder.search(password)
        ]

    def _patterns_for(self, data: bytes) -> list[re2._Regexp]:
        """Only the patterns whose literals all occur: "://" in a URL, "=" and ";" in a
        key-value string."""
        patterns = [self._url] if b"://" in data else []
        if b"=" in data and b";" in data:
            patterns.append(self._key_value)
        return patterns

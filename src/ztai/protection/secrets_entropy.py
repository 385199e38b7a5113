"""The generic high-entropy token detector: runs of base64/base64url characters whose Shannon
entropy exceeds a threshold. Off by default: it flags tokens that no rule names, at the cost of
false positives that ``bench/secrets_eval.py`` measures on prose."""

from __future__ import annotations

from dataclasses import dataclass

import re2

from ztai.protection.secrets_text import ByteMatch, ScanText, shannon_entropy

HIGH_ENTROPY = "secret.high-entropy"
_RUN = r"[A-Za-z0-9+/_-]{%d,}={0,2}"  # runs shorter than the minimum never surface


@dataclass(frozen=True, slots=True)
class HighEntropyPolicy:
    """A token is flagged when it has ``min_length`` characters or more, a digit and a letter,
    and more than ``threshold`` bits per character. Hex never exceeds 4 bits, so the default
    4.5 leaves hashes and UUIDs alone; random base64 of 24+ characters is usually above it."""

    threshold: float = 4.5
    min_length: int = 24
    max_length: int = 4096  # longer runs are data blobs, not credentials


class HighEntropyScanner:
    def __init__(self, policy: HighEntropyPolicy) -> None:
        self._policy = policy
        self._pattern = re2.compile(_RUN % max(1, policy.min_length))

    def scan(self, text: ScanText) -> list[ByteMatch]:
        return [
            ByteMatch(HIGH_ENTROPY, m.start(), m.end(), 0.5, "secrets.high-entropy")
            for m in self._pattern.finditer(text.data)
            if not _in_path(text.data, m.start(), m.group()) and self.is_secret_like(m.group())
        ]

    def is_secret_like(self, token: bytes) -> bool:
        policy = self._policy
        if len(token) > policy.max_length:
            return False
        if not (any(c in _DIGITS for c in token) and any(c in _LETTERS for c in token)):
            return False
        return shannon_entropy(token.decode("ascii")) > policy.threshold


def _in_path(data: bytes, start: int, token: bytes) -> bool:
    """A run with slashes right after ``.``, ``/`` or ``:`` is a URL or file path, whose mixed
    words and digits read as entropy (``docs.example.com/d/1ydCe…/edit``)."""
    return b"/" in token and start > 0 and data[start - 1] in b"./:"


_DIGITS = frozenset(b"0123456789")
_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

"""Pseudonymised review: analysts and alert sinks see ``user:p-3f9c…`` instead of who it is.
A pseudonym is a keyed HMAC of the principal, so it is stable (one person's alerts line up)
but cannot be reversed or guessed without the key; unmasking looks the alert up instead."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ztai.storage.model import AlertRecord

KEY_BYTES = 32


class Pseudonymizer:
    """Holds the key; its repr never shows it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonym key needs at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "Pseudonymizer(key=***)"

    def pseudonym(self, principal: str) -> str:
        """``user:alice`` → ``user:p-<16 hex>``; the kind stays visible, the id does not."""
        kind, _, _ = principal.partition(":")
        digest = hmac.new(self._key, principal.encode(), hashlib.sha256).hexdigest()
        return f"{kind}:p-{digest[:16]}"

    def mask(self, alert: AlertRecord) -> AlertRecord:
        return dataclasses.replace(alert, principal=self.pseudonym(alert.principal))


def load_key(path: Path) -> bytes:
    """The key in ``path`` (hex), created (mode 0600) with a fresh random key if missing.
    Raises ``OSError`` or ``ValueError`` for an unreadable or malformed file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as out:
        key = secrets.token_bytes(KEY_BYTES)
        out.write(key.hex() + "\n")
    return key

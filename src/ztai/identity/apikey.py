"""API keys: ``ztai-sk-<key id>-<secret>``. Only a SHA-256 of the whole key is stored; the key
is shown once at creation. Revocation and expiry apply on the very next request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from ztai.core.clock import Clock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.core.secret import Secret
from ztai.core.turn import PerTurn
from ztai.identity.header import BearerCredential
from ztai.storage.interface import KeyStore
from ztai.storage.model import KeyRecord

PREFIX = "ztai-sk-"
_ID_LENGTH = 12
_SECRET_LENGTH = 48
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class KeySpec:
    """What a new key is for. ``ttl_s`` None means it never expires."""

    principal: str
    kind: PrincipalKind
    groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] | None = None
    ttl_s: float | None = None
    description: str = ""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(store: KeyStore, spec: KeySpec, clock: Clock) -> tuple[Secret, KeyRecord]:
    """Create and store a key; returns the key (to show once) and its stored record."""
    key_id = secrets.token_hex(_ID_LENGTH // 2)
    key = f"{PREFIX}{key_id}-{secrets.token_hex(_SECRET_LENGTH // 2)}"
    now = clock.now()
    record = KeyRecord(
        key_id=key_id,
        secret_hash=hash_key(key),
        principal=spec.principal,
        kind=spec.kind,
        groups=spec.groups,
        attributes=dict(spec.attributes or {}),
        created_at=now,
        expires_at=None if spec.ttl_s is None else now + spec.ttl_s,
        description=spec.description,
    )
    store.put_key(record)
    return Secret(key), record


def split_key(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + _ID_LENGTH + 1 + _SECRET_LENGTH:
        return None
    body = key[len(PREFIX):]
    key_id, dash, secret = body[:_ID_LENGTH], body[_ID_LENGTH], body[_ID_LENGTH + 1:]
    if dash != "-" or not _HEX.issuperset(key_id) or not _HEX.issuperset(secret):
        return None
    return key_id


class ApiKeyAuthenticator:
    """Authenticates bearer API keys against a ``KeyStore``.

    Records are cached and the cache is refreshed whenever the store's ``keys_version``
    changes, which the store bumps on every write; so a revocation made by another process
    (``ztai keys revoke``) is seen by every request received after it. Requests handled in
    the same turn of the event loop share one read of the version (``PerTurn``).
    """

    def __init__(self, store: KeyStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._store_version = PerTurn(store.keys_version)
        self._version = -1
        self._cache: dict[str, KeyRecord] = {}

    async def authenticate(self, credential: BearerCredential) -> Principal:
        key = credential.token.reveal()
        key_id = split_key(key)
        if key_id is None:
            raise AuthenticationFailed("invalid API key")
        record = self._lookup(key_id)
        if record is None or not hmac.compare_digest(record.secret_hash, hash_key(key)):
            raise AuthenticationFailed("invalid API key")
        if record.revoked_at is not None:
            raise AuthenticationFailed("API key revoked", code="revoked_api_key")
        if not record.is_active(self._clock.now()):
            raise AuthenticationFailed("API key expired", code="expired_api_key")
        return Principal(
            id=PrincipalId(record.principal),
            kind=record.kind,
            groups=record.groups,
            attributes=record.attributes,
            auth_method="api_key",
            credential_id=record.key_id,
        )

    def _lookup(self, key_id: str) -> KeyRecord | None:
        version = self._store_version.get()
        if version != self._version:
            self._cache = {r.key_id: r for r in self._store.list_keys()}
            self._version = version
        return self._cache.get(key_id)

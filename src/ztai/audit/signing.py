"""Ed25519 checkpoints: the key file, the signer, and checking a signature.

A checkpoint signs ``b"ztai-checkpoint-v1\\n" + canonical_json({hash, key_id, seq, time})``;
the signature is stored as hex. ``key_id`` is the first 16 hex digits of sha256(raw public key)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ztai.audit.canonical import canonical_json
from ztai.storage.model import Checkpoint

_DOMAIN = b"ztai-checkpoint-v1\n"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def key_id_of(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key.public_bytes(*_RAW)).hexdigest()[:16]


def checkpoint_message(seq: int, hash: str, time: float, key_id: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return _DOMAIN + canonical_json({"seq": seq, "hash": hash, "time": time, "key_id": key_id})


class CheckpointSigner:
    """Holds the private key; its repr shows only the key id."""

    __slots__ = ("_key", "key_id")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.key_id = key_id_of(private_key.public_key())

    @classmethod
    def from_pem_file(cls, path: Path) -> CheckpointSigner:
        """Raises ``OSError`` if unreadable, ``ValueError`` if not an unencrypted Ed25519 key."""
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except TypeError as exc:  # cryptography's error for an encrypted key
            raise ValueError(f"{path} holds an encrypted key; ztai needs it unencrypted") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, seq: int, hash: str, time: float) -> Checkpoint:
        signature = self._key.sign(checkpoint_message(seq, hash, time, self.key_id))
        return Checkpoint(seq, hash, time, self.key_id, signature.hex())

    def __repr__(self) -> str:
        return f"CheckpointSigner(key_id={self.key_id!r})"


def generate_key_file(path: Path) -> CheckpointSigner:
    """Write a new private key (PEM, PKCS#8) readable only by its owner (mode 0600).
    Raises ``FileExistsError`` rather than overwrite a key that may have signed a log."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    return CheckpointSigner(key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """From a PEM public key, or from the private key file itself. Raises ``ValueError``."""
    data = path.read_bytes()
    if b"PRIVATE KEY-----" in data:
        return CheckpointSigner.from_pem_file(path).public_key
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key


def verify_checkpoint(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """True only if ``public_key`` signed exactly this seq, hash, time and key id."""
    if checkpoint.key_id != key_id_of(public_key):
        return False
    cp = checkpoint
    try:
        public_key.verify(
            bytes.fromhex(cp.signature), checkpoint_message(cp.seq, cp.hash, cp.time, cp.key_id)
        )
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True

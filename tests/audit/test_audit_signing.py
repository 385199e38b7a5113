"""Ed25519 checkpoint keys: the key file, signing, and what a signature covers."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ztai.audit.signing import (
    CheckpointSigner,
    generate_key_file,
    key_id_of,
    load_public_key,
    verify_checkpoint,
)


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    signer = generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = CheckpointSigner.from_pem_file(path)
    assert loaded.key_id == signer.key_id
    assert len(signer.key_id) == 16


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    generate_key_file(path)
    with pytest.raises(FileExistsError):
        generate_key_file(path)


def test_repr_shows_only_the_key_id(signer: CheckpointSigner, tmp_path: Path) -> None:
    pem = (tmp_path / "audit.key").read_text()
    body = "".join(pem.splitlines()[1:-1])
    assert repr(signer) == f"CheckpointSigner(key_id={signer.key_id!r})"
    assert body not in repr(signer)


def test_public_key_loads_from_public_or_private_pem(signer: CheckpointSigner,
                                                     tmp_path: Path) -> None:
    public = tmp_path / "audit.pub"
    public.write_bytes(signer.public_pem())
    assert key_id_of(load_public_key(public)) == signer.key_id
    assert key_id_of(load_public_key(tmp_path / "audit.key")) == signer.key_id


def test_a_non_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.pem"
    path.write_text("not a key")
    with pytest.raises(ValueError, match="PEM"):
        load_public_key(path)


def test_an_encrypted_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "enc.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw")))
    with pytest.raises(ValueError, match="encrypted"):
        CheckpointSigner.from_pem_file(path)


def test_a_key_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    with pytest.raises(ValueError, match="Ed25519"):
        load_public_key(path)
    path.write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ValueError, match="Ed25519"):
        load_public_key(path)


def test_signature_covers_seq_hash_time_and_key_id(signer: CheckpointSigner) -> None:
    cp = signer.sign(7, "ab" * 32, 1_750_000_000.5)
    assert verify_checkpoint(cp, signer.public_key)
    for change in ({"seq": 8}, {"hash": "cd" * 32}, {"time": 1_750_000_001.5},
                   {"key_id": "0" * 16}, {"signature": "00" * 64}, {"signature": "zz"}):
        assert not verify_checkpoint(dataclasses.replace(cp, **change), signer.public_key)


def test_another_key_does_not_verify(signer: CheckpointSigner) -> None:
    other = CheckpointSigner(Ed25519PrivateKey.generate())
    assert not verify_checkpoint(signer.sign(1, "ab" * 32, 0.0), other.public_key)

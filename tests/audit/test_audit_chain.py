"""The hash chain as pure functions: linking, and verifying against signed checkpoints."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ztai.audit.chain import GENESIS_HASH, entry_hash, link
from ztai.audit.signing import CheckpointSigner
from ztai.audit.verify import MAX_PROBLEMS, verify_chain
from ztai.storage.model import ChainedEntry, Checkpoint

PAYLOADS = [b'{"n":%d}' % i for i in range(10)]


def _signed_log(signer: CheckpointSigner) -> tuple[list[ChainedEntry], list[Checkpoint]]:
    entries = link(None, PAYLOADS)
    return entries, [signer.sign(e.seq, e.hash, 1.0) for e in entries if e.seq in (5, 10)]


def test_link_starts_at_genesis_and_continues_from_a_head() -> None:
    first = link(None, [b"a", b"b"])
    assert [e.seq for e in first] == [1, 2]
    assert first[0].prev_hash == GENESIS_HASH
    assert first[1].prev_hash == first[0].hash
    more = link(first[-1], [b"c"])
    assert more[0].seq == 3
    assert more[0].prev_hash == first[-1].hash


def test_the_hash_binds_seq_prev_and_payload() -> None:
    base = entry_hash(1, GENESIS_HASH, b"x")
    assert base == link(None, [b"x"])[0].hash
    assert len({base, entry_hash(2, GENESIS_HASH, b"x"), entry_hash(1, "1" * 64, b"x"),
                entry_hash(1, GENESIS_HASH, b"y")}) == 4


def test_an_intact_log_verifies(signer: CheckpointSigner) -> None:
    entries, checkpoints = _signed_log(signer)
    report = verify_chain(iter(entries), checkpoints, signer.public_key)
    assert report.ok
    assert (report.count, report.last_seq, report.last_hash) == (10, 10, entries[-1].hash)
    assert (report.checkpoints_verified, report.unanchored) == (2, 0)
    assert report.signatures_checked


def test_an_empty_log_verifies() -> None:
    report = verify_chain([], [], None)
    assert report.ok
    assert (report.count, report.last_seq, report.last_hash) == (0, 0, GENESIS_HASH)


def test_entries_after_the_last_checkpoint_are_counted_unanchored(
        signer: CheckpointSigner) -> None:
    entries, checkpoints = _signed_log(signer)
    report = verify_chain(entries, checkpoints[:1], signer.public_key)
    assert report.ok
    assert report.unanchored == 5


def test_verifies_a_stream_without_holding_it(signer: CheckpointSigner) -> None:
    def stream() -> Iterator[ChainedEntry]:
        prev = None
        for i in range(20_000):
            (prev,) = link(prev, [b"%d" % i])
            yield prev

    report = verify_chain(stream(), [], signer.public_key)
    assert report.ok
    assert report.count == 20_000


def test_without_a_key_signatures_are_not_checked_but_hashes_are(
        signer: CheckpointSigner) -> None:
    entries, checkpoints = _signed_log(signer)
    forged = dataclasses.replace(checkpoints[0], signature="00" * 64)
    assert verify_chain(entries, [forged], None).ok
    wrong = dataclasses.replace(checkpoints[0], hash="ab" * 32)
    report = verify_chain(entries, [wrong], None)
    assert not report.ok
    assert not report.signatures_checked


def test_the_report_keeps_a_bounded_number_of_problems() -> None:
    entries = [dataclasses.replace(e, hash="0" * 64) for e in link(None, [b"x"] * 500)]
    report = verify_chain(entries, [], None)
    assert len(report.problems) == MAX_PROBLEMS
    assert report.problem_count > MAX_PROBLEMS


def test_a_checkpoint_naming_a_deleted_entry_is_reported(signer: CheckpointSigner) -> None:
    entries, checkpoints = _signed_log(signer)
    report = verify_chain(entries[:4] + entries[5:], checkpoints, signer.public_key)
    assert any(p.seq == 5 and "missing" in p.message for p in report.problems)


def test_out_of_order_entries_are_reported() -> None:
    entries = link(None, PAYLOADS)
    report = verify_chain([entries[0], entries[2], entries[1], *entries[3:]], [], None)
    assert any("out of order" in p.message for p in report.problems)


EDITED = b'{"edited":true}'  # longer than any generated payload, so always a change


def _edit(entries: list[ChainedEntry], i: int) -> list[ChainedEntry]:
    return [*entries[:i], dataclasses.replace(entries[i], payload=EDITED), *entries[i + 1:]]


def _relinked_edit(entries: list[ChainedEntry], i: int) -> list[ChainedEntry]:
    """An attacker who recomputes every hash after the edit: only a checkpoint can tell."""
    prefix = entries[:i]
    return prefix + link(prefix[-1] if prefix else None,
                         [EDITED] + [e.payload for e in entries[i + 1:]])


def _delete(entries: list[ChainedEntry], i: int) -> list[ChainedEntry]:
    return entries[:i] + entries[i + 1:]


def _insert(entries: list[ChainedEntry], i: int) -> list[ChainedEntry]:
    prefix = entries[:i]
    forged = link(prefix[-1] if prefix else None, [b'{"forged":1}'])
    moved = [dataclasses.replace(e, seq=e.seq + 1) for e in entries[i:]]
    return prefix + forged + moved


def _swap(entries: list[ChainedEntry], i: int) -> list[ChainedEntry]:
    j = i + 1 if i + 1 < len(entries) else i - 1
    out = list(entries)
    out[i], out[j] = (dataclasses.replace(entries[j], seq=entries[i].seq),
                      dataclasses.replace(entries[i], seq=entries[j].seq))
    return sorted(out, key=lambda e: e.seq)


def _truncate(entries: list[ChainedEntry], i: int) -> list[ChainedEntry]:
    return entries[:i]


TAMPERINGS = [_edit, _relinked_edit, _delete, _insert, _swap, _truncate]


@given(
    payloads=st.lists(st.binary(max_size=8), min_size=2, max_size=30),
    tamper=st.sampled_from(TAMPERINGS),
    data=st.data(),
)
def test_any_tampering_before_the_last_checkpoint_is_detected(
    payloads: list[bytes], tamper: object, data: st.DataObject
) -> None:
    signer = CheckpointSigner(Ed25519PrivateKey.generate())
    entries = link(None, payloads)
    checkpoint = signer.sign(entries[-1].seq, entries[-1].hash, 0.0)
    i = data.draw(st.integers(0, len(entries) - 1))
    tampered = tamper(entries, i)  # type: ignore[operator]  # one of TAMPERINGS
    assert not verify_chain(tampered, [checkpoint], signer.public_key).ok

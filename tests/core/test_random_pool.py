"""RandomPool: ids from the OS's CSPRNG, drawn a page at a time; no byte handed out twice, not
even across a fork."""

from __future__ import annotations

import os
import re
import sys
import threading

import pytest

from ztai.core.clock import RandomPool, new_id


def test_ids_are_96_random_bits_in_hex_and_never_repeat() -> None:
    ids = [new_id("x-") for _ in range(5000)]
    assert all(re.fullmatch(r"x-[0-9a-f]{24}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_the_pool_hands_out_every_byte_once_across_refills(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    draws: list[bytes] = []
    counter = iter(range(10**6))

    def fake_urandom(n: int) -> bytes:
        chunk = bytes(next(counter) % 256 for _ in range(n))
        draws.append(chunk)
        return chunk

    monkeypatch.setattr(os, "urandom", fake_urandom)
    pool = RandomPool(size=30)
    taken = b"".join(pool.take(12) for _ in range(6))
    assert len(draws) == 3  # 2 slices of 12 per draw of 30; the 6 leftover bytes are skipped
    assert taken == b"".join(d[:24] for d in draws)
    assert pool.take(31) == draws[-1]  # more than a page: drawn directly
    assert len(draws) == 4


def test_threads_never_share_a_slice() -> None:
    pool = RandomPool(size=64)
    out: list[bytes] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [pool.take(8) for _ in range(500)]
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == len(out) == 2000


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_child_does_not_reuse_the_parents_bytes() -> None:
    pool = RandomPool(size=4096)
    pool.take(12)  # the pool now holds bytes the parent will hand out next
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(write, pool.take(12))
        os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.waitpid(pid, 0)
    parent_next = pool.take(12)
    assert child != parent_next
    assert len(child) == 12


def test_a_pool_needs_a_size() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RandomPool(size=0)

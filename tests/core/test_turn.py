"""PerTurn: a store's version is read once per turn of the event loop and never outlives the
next turn; what a store's reader raises is never remembered."""

from __future__ import annotations

import asyncio

import pytest

from ztai.core.clock import FixedClock
from ztai.core.errors import AuthenticationFailed
from ztai.core.model import PrincipalKind
from ztai.core.turn import PerTurn
from ztai.gateway.control import ControlView
from ztai.identity.apikey import ApiKeyAuthenticator, KeySpec, issue_key
from ztai.identity.header import parse_authorization
from ztai.storage.memory import MemoryControlStore, MemoryKeyStore


class Counter:
    def __init__(self) -> None:
        self.reads = 0
        self.value = 7

    def read(self) -> int:
        self.reads += 1
        return self.value


def test_off_an_event_loop_every_call_reads() -> None:
    counter = Counter()
    version = PerTurn(counter.read)
    assert [version.get(), version.get()] == [7, 7]
    assert counter.reads == 2


def test_one_read_per_turn_and_a_fresh_one_in_the_next() -> None:
    async def main() -> None:
        counter = Counter()
        version = PerTurn(counter.read)
        assert [version.get() for _ in range(5)] == [7] * 5
        assert counter.reads == 1
        counter.value = 8  # committed meanwhile, by another process say
        await asyncio.sleep(0)  # the next turn
        assert version.get() == 8
        assert counter.reads == 2

    asyncio.run(main())


def test_forget_reads_afresh_within_the_turn() -> None:
    async def main() -> None:
        counter = Counter()
        version = PerTurn(counter.read)
        version.get()
        counter.value = 9
        version.forget()
        assert version.get() == 9

    asyncio.run(main())


def test_a_read_that_raises_is_not_remembered() -> None:
    async def main() -> None:
        calls = iter([RuntimeError("store down"), 3])

        def read() -> int:
            answer = next(calls)
            if isinstance(answer, Exception):
                raise answer
            return answer

        version = PerTurn(read)
        with pytest.raises(RuntimeError, match="store down"):
            version.get()
        assert version.get() == 3

    asyncio.run(main())


class CountingKeyStore(MemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.version_reads = 0

    def keys_version(self) -> int:
        self.version_reads += 1
        return super().keys_version()


def test_requests_in_one_turn_share_a_key_version_read_and_a_revocation_applies_next_turn(
) -> None:
    async def main() -> None:
        clock = FixedClock()
        store = CountingKeyStore()
        key, record = issue_key(store, KeySpec("svc-1", PrincipalKind.SERVICE), clock)
        auth = ApiKeyAuthenticator(store, clock)
        credential = parse_authorization(f"Bearer {key.reveal()}")
        await asyncio.gather(*(auth.authenticate(credential) for _ in range(4)))
        assert store.version_reads == 1
        store.revoke_key(record.key_id, clock.now())  # as `ztai keys revoke` would
        await asyncio.sleep(0)
        with pytest.raises(AuthenticationFailed, match="revoked"):
            await auth.authenticate(credential)

    asyncio.run(main())


def test_the_control_view_reads_its_version_once_per_turn() -> None:
    async def main() -> None:
        store = MemoryControlStore()
        reads = 0
        read = store.control_version

        def counted() -> int:
            nonlocal reads
            reads += 1
            return read()

        store.control_version = counted  # type: ignore[method-assign]
        view = ControlView(store)
        first = view.current()
        assert view.current() is first
        assert reads == 1
        await asyncio.sleep(0)
        view.current()
        assert reads == 2

    asyncio.run(main())

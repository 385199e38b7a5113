"""The follower that keeps DLP's protected documents in step with the knowledge indexes: the
diff it applies, and its pacing (a slow re-read waits longer, so a busy index costs a bounded
share of a core)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ztai.gateway import knowledge_setup
from ztai.gateway.knowledge_setup import PrintFollower
from ztai.protection.fingerprint import FingerprintIndex


def _follower(known: dict[str, tuple[tuple[int, ...], str | None]]) -> PrintFollower:
    follower = PrintFollower({})
    follower.known = dict(known)
    return follower


def test_apply_registers_new_and_changed_documents_and_forgets_deleted_ones() -> None:
    target = FingerprintIndex()
    prints = tuple(range(1, 40))
    follower = _follower({"kb:old": (prints, "Confidential"), "kb:same": (prints, "General")})
    target.add_prints("kb:old", prints, "Confidential")
    target.add_prints("kb:same", prints, "General")
    changed = follower.apply(target, {"kb:same": (prints, "General"),
                                      "kb:new": (prints, "Highly Confidential")})
    assert changed == 2  # one gone, one new; the unchanged one is not touched
    assert set(target._documents) == {"kb:same", "kb:new"}
    assert target._documents["kb:new"][1] == "Highly Confidential"
    assert follower.known == {"kb:same": (prints, "General"),
                              "kb:new": (prints, "Highly Confidential")}


@pytest.mark.anyio
async def test_a_slow_reread_makes_the_next_wait_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) > 3:
            raise asyncio.CancelledError
        await real_sleep(0)

    def slow_reread(self: Any) -> None:
        clock[0] += 0.5  # half a second of work each time
        return None

    monkeypatch.setattr(knowledge_setup, "_sleep", sleep)
    monkeypatch.setattr(knowledge_setup, "_now", lambda: clock[0])
    monkeypatch.setattr(PrintFollower, "_refreshed", slow_reread)
    run = _follower({}).follow(FingerprintIndex())
    with pytest.raises(asyncio.CancelledError):
        await run()
    share = knowledge_setup.FOLLOW_SHARE
    assert pauses == [knowledge_setup.FOLLOW_INTERVAL_S, 0.5 / share, 0.5 / share, 0.5 / share]

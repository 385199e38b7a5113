"""Single use of client assertions: each ``jti`` is remembered until its assertion expires.
In memory and bounded; several gateway replicas need a shared cache instead."""

from __future__ import annotations

import heapq

from ztai.core.clock import Clock
from ztai.identity.failure import AuthCode, auth_failure

DEFAULT_MAX_ENTRIES = 100_000


class ReplayCache:
    """Remembers up to ``max_entries`` live ids. When full of unexpired ids it refuses new ones
    (``replay_cache_full``) rather than forget one that could then be replayed."""

    def __init__(self, clock: Clock, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self._clock = clock
        self._max = max_entries
        self._expiry: dict[str, float] = {}
        self._queue: list[tuple[float, str]] = []

    def consume(self, key: str, expires_at: float) -> bool:
        """Record ``key`` as used until ``expires_at``; False if it was already used."""
        self._forget_expired(self._clock.now())
        if key in self._expiry:
            return False
        if len(self._expiry) >= self._max:
            raise auth_failure(AuthCode.REPLAY_CACHE_FULL)
        self._expiry[key] = expires_at
        heapq.heappush(self._queue, (expires_at, key))
        return True

    def __len__(self) -> int:
        return len(self._expiry)

    def _forget_expired(self, now: float) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, key = heapq.heappop(self._queue)
            del self._expiry[key]

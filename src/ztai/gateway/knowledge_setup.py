"""Knowledge bases from settings: each index opened read-only (``ConfigError`` naming the
setting if it is missing or damaged), the service, the retrieval stage and the routes; and the
follower that keeps DLP's protected documents in step with the indexes' sensitive ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ztai.config.settings import ConfigError, Settings
from ztai.core.errors import ZtaiError
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.knowledge import ChatBinding, KnowledgeService, RetrievalStage, knowledge_routes
from ztai.knowledge.embedding import embedder_for
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.policy.interface import Authorizer
from ztai.protection.fingerprint import FingerprintIndex

FOLLOW_INTERVAL_S = 2.0  # how soon a newly indexed sensitive document is a protected one
FOLLOW_SHARE = 0.1  # at most this share of a core on re-reading the records of busy indexes
_sleep, _now = asyncio.sleep, time.monotonic  # the follower's (tests replace them)

Prints = dict[str, tuple[tuple[int, ...], str | None]]  # "base:document" -> prints, label


@dataclass(frozen=True, slots=True)
class Knowledge:
    service: KnowledgeService | None = None
    stage: RetrievalStage | None = None
    routes: dict[tuple[str, str], FastRoute] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    # the documents with DLP fingerprints (the sensitive ones), as the indexes held them at start
    printed: list[tuple[str, tuple[int, ...], str | None]] = field(default_factory=list)
    follower: PrintFollower | None = None  # keeps DLP in step with the indexes while serving


def build_knowledge(settings: Settings, authorizer: Authorizer) -> Knowledge:
    if not settings.knowledge.bases:
        return Knowledge()
    bases = {}
    for base in settings.knowledge.bases:
        path = settings.path(base.index)
        try:
            embedder = embedder_for(KnowledgeIndex.vector_dimension(path))
            bases[base.name] = KnowledgeIndex.open(path, Options(embedder=embedder))
        except (ZtaiError, OSError, ValueError) as exc:
            raise ConfigError(f"knowledge.bases {base.name!r}: cannot open the index at {path} "
                              f"({type(exc).__name__}: {exc}); build it with "
                              "'ztai knowledge index'") from exc
    service = KnowledgeService(bases, authorizer, settings.protection.labels)
    chat = {c.model: ChatBinding(c.base, c.k) for c in settings.knowledge.chat}
    follower = PrintFollower(bases)
    printed = [(key, prints, label) for key, (prints, label) in follower.known.items()]
    return Knowledge(service, RetrievalStage(service, chat) if chat else None,
                     knowledge_routes(service), [index.close for index in bases.values()],
                     printed, follower)


class PrintFollower:
    """The sensitive documents' fingerprints as the indexes hold them now. ``follow`` catches up
    with the indexer every ``FOLLOW_INTERVAL_S``: a document indexed (or re-labelled) since is
    registered with DLP, a deleted one is forgotten, without a restart. Index reads run in a
    worker thread; the changes apply on the event loop, between requests."""

    def __init__(self, bases: Mapping[str, KnowledgeIndex]) -> None:
        self._bases = dict(bases)
        self.known: Prints = self._read()

    def _read(self) -> Prints:
        return {f"{name}:{record.id}": (tuple(record.fingerprints), record.label)
                for name, index in self._bases.items() for record in index.records()
                if record.fingerprints}

    def _refreshed(self) -> Prints | None:
        changed = [index.refresh() for index in self._bases.values()]
        return self._read() if any(changed) else None

    def apply(self, target: FingerprintIndex, now: Prints) -> int:
        """Bring ``target`` from ``known`` to ``now``; returns how many documents changed."""
        gone = [key for key in self.known if key not in now]
        changed = [key for key, entry in now.items() if self.known.get(key) != entry]
        for key in gone:
            target.remove(key)
        for key in changed:
            prints, label = now[key]
            target.add_prints(key, prints, label)
        self.known = now
        return len(gone) + len(changed)

    def follow(self, target: FingerprintIndex) -> Callable[[], Awaitable[None]]:
        """The loop; a re-read that took ``t`` seconds waits at least ``t / FOLLOW_SHARE``
        before the next (a big index that an indexer keeps changing costs a bounded share)."""
        async def run() -> None:
            pause = FOLLOW_INTERVAL_S
            while True:
                await _sleep(pause)
                begun = _now()
                now = await asyncio.to_thread(self._refreshed)
                if now is not None:
                    self.apply(target, now)
                pause = max(FOLLOW_INTERVAL_S, (_now() - begun) / FOLLOW_SHARE)
        return run

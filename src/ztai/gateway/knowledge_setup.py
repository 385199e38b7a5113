"""Knowledge bases from settings: each index opened read-only (``ConfigError`` naming the
setting if it is missing or damaged), the service, the retrieval stage and the routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ztai.config.settings import ConfigError, Settings
from ztai.core.errors import ZtaiError
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.knowledge import ChatBinding, KnowledgeService, RetrievalStage, knowledge_routes
from ztai.knowledge.embedding import embedder_for
from ztai.knowledge.index import KnowledgeIndex, Options
from ztai.policy.interface import Authorizer


@dataclass(frozen=True, slots=True)
class Knowledge:
    service: KnowledgeService | None = None
    stage: RetrievalStage | None = None
    routes: dict[tuple[str, str], FastRoute] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    # the documents with DLP fingerprints (the sensitive ones), as the indexes held them at start
    printed: list[tuple[str, tuple[int, ...], str | None]] = field(default_factory=list)


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
    printed = [(f"{name}:{record.id}", record.fingerprints, record.label)
               for name, index in bases.items() for record in index.records()
               if record.fingerprints]
    return Knowledge(service, RetrievalStage(service, chat) if chat else None,
                     knowledge_routes(service), [index.close for index in bases.values()],
                     printed)

"""The OpenAI routes: each names its protocol's translation; the fast path runs them all
through the one pipeline."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ztai.core.model import ExchangeId
from ztai.gateway.catalog import Catalog
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.openai.chat import translate_chat
from ztai.gateway.openai.embeddings import translate_embeddings
from ztai.gateway.openai.models import ModelLister
from ztai.gateway.openai.responses import translate_responses
from ztai.gateway.pipeline import Translate
from ztai.gateway.plan import Plan

ProtocolTranslate = Callable[[bytes, Catalog, ExchangeId], Plan]


def openai_routes(catalog: Catalog, lister: ModelLister) -> dict[tuple[str, str], FastRoute]:
    def bound(fn: ProtocolTranslate) -> Translate:
        return partial(_call, fn, catalog)

    return {
        ("POST", "/v1/chat/completions"): FastRoute("chat.completions", bound(translate_chat)),
        ("POST", "/v1/responses"): FastRoute("responses", bound(translate_responses)),
        ("POST", "/v1/embeddings"): FastRoute("embeddings", bound(translate_embeddings)),
        ("GET", "/v1/models"): FastRoute("models", lister.translate),
    }


def _call(fn: ProtocolTranslate, catalog: Catalog, body: bytes, exchange_id: ExchangeId) -> Plan:
    return fn(body, catalog, exchange_id)

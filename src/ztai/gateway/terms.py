"""Terms of use per app: ``GET /v1/terms`` lists them with whether the caller accepted the
current version; ``POST /v1/terms/accept`` with ``{"app": ...}`` records the acceptance (and is
audited like every exchange). Policies read ``context.terms_accepted``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ztai.core.clock import Clock
from ztai.core.errors import BadRequest
from ztai.core.flow import Flow
from ztai.core.model import GATEWAY, Action, Exchange, ExchangeId
from ztai.gateway.control import ref
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.openai.fields import parse_object, req_str
from ztai.gateway.plan import Plan, TextlessReader
from ztai.storage.interface import TermsStore
from ztai.storage.model import TermsAcceptance


class TermsRoutes:
    def __init__(self, store: TermsStore, terms: Mapping[str, tuple[str, str]],
                 clock: Clock) -> None:
        self._store, self._terms, self._clock = store, terms, clock  # app -> (version, url)

    def routes(self) -> dict[tuple[str, str], FastRoute]:
        return {("POST", "/v1/terms/accept"): FastRoute("terms.accept", self.translate_accept),
                ("GET", "/v1/terms"): FastRoute("terms.list", self.translate_list)}

    def translate_accept(self, body: bytes, exchange_id: ExchangeId) -> Plan:
        app = req_str(parse_object(body), "app")
        if app not in self._terms:
            raise BadRequest(f"no terms of use named {app!r}", param="app")
        exchange = Exchange(exchange_id, "terms.accept", Action.ACCEPT_TERMS, GATEWAY,
                            signals={"app": app})
        return Plan(exchange, TextlessReader(), local=lambda flow: self._accept(flow, app))

    def translate_list(self, body: bytes, exchange_id: ExchangeId) -> Plan:
        exchange = Exchange(exchange_id, "terms.list", Action.ACCEPT_TERMS, GATEWAY)
        return Plan(exchange, TextlessReader(), local=self._list)

    async def _accept(self, flow: Flow, app: str) -> dict[str, Any]:
        version, _ = self._terms[app]
        who = ref(flow.principal.chain()[0])
        self._store.accept_terms(TermsAcceptance(who, app, version, self._clock.now()))
        return {"object": "terms.acceptance", "app": app, "version": version, "principal": who}

    async def _list(self, flow: Flow) -> dict[str, Any]:
        who = ref(flow.principal.chain()[0])
        accepted = {(t.app, t.version) for t in self._store.terms_acceptances()
                    if t.principal == who}
        return {"object": "list", "data": [
            {"app": app, "version": version, "url": url, "accepted": (app, version) in accepted}
            for app, (version, url) in self._terms.items()]}

"""One upstream MCP server behind ztai: every MCP operation becomes an exchange for the one
pipeline (authenticate → classify → detect → authorize → protect → forward → inspect → audit).

- ``tools/list``: the server's listing is refreshed, each definition checked against its pin
  (changed or new definitions are quarantined), and only tools that are pinned, approved and
  permitted to the caller (every principal of the delegation chain) are returned.
- ``tools/call``: the arguments are the exchange's segments (DLP and the shield see them);
  Cedar sees the tool (server, name, declared risk), the destinations named in the arguments,
  and the session's taint; redactions reach the server; the result is scanned (shield, DLP),
  labelled and, for tools that return outside content, taints the session.
- ``resources/read`` and ``prompts/get`` are governed the same way (actions ``read_resource``
  and ``get_prompt`` on ``Tool::"<server>/<uri or name>"``); ``resources/list`` and
  ``prompts/list`` show only what the caller may read or get, and withhold an item whose
  description (or a prompt argument's) carries instructions the prompt shield flags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import mcp_types as types

from ztai.agents.destinations import DestinationFinder
from ztai.agents.pinning import PinBook, PinVerdict
from ztai.agents.taint import Taint, TaintTracker, session_signal
from ztai.config.settings import McpServerSettings
from ztai.core.errors import BadRequest, UpstreamError, ZtaiError
from ztai.core.flow import Flow
from ztai.core.model import (
    Action,
    Exchange,
    ExchangeId,
    Resource,
    ResourceKind,
    Role,
    Segment,
)
from ztai.gateway.mcp.results import ResultReader, ResultScanner, unscanned_parts
from ztai.gateway.mcp.upstream import McpUpstream
from ztai.gateway.plan import Plan
from ztai.gateway.stages import chain_denial
from ztai.policy.interface import Authorizer

MAX_ARGUMENT_STRINGS = 10_000
MAX_RESULT_TEXTS = 10_000
MAX_DEPTH = 32
GATEWAY = Resource(ResourceKind.GATEWAY, "gateway")


class ToolQuarantined(ZtaiError):
    code = "tool_quarantined"


class UnknownTool(BadRequest):
    code = "tool_not_found"


@dataclass(frozen=True, slots=True)
class ToolFacts:
    """What policies see about a tool: ztai's declaration first, the server's hints second."""

    risk: str
    untrusted_output: bool


@dataclass(frozen=True, slots=True)
class Listing:
    tools: Mapping[str, types.Tool]
    verdicts: Mapping[str, PinVerdict]


class McpGate:
    def __init__(self, settings: McpServerSettings, upstream: McpUpstream, pins: PinBook,
                 taint: TaintTracker, destinations: DestinationFinder, authorizer: Authorizer,
                 scanner: ResultScanner, max_result_chars: int) -> None:
        self.name = settings.name
        self._settings, self._upstream, self._pins = settings, upstream, pins
        self._taint, self._destinations, self._authorizer = taint, destinations, authorizer
        self._scanner, self._reader = scanner, ResultReader()
        self._max_result_chars = max_result_chars
        self._listing = Listing({}, {})

    @property
    def upstream(self) -> McpUpstream:
        return self._upstream

    async def refresh(self) -> Listing:
        """The server's current tools, each with its pin verdict."""
        tools = await self._upstream.list_tools()
        definitions = [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]
        verdicts = self._pins.review(self.name, definitions)
        self._listing = Listing({t.name: t for t in tools}, verdicts)
        return self._listing

    async def known(self, tool: str) -> Listing:
        """The listing, refreshed if ``tool`` is not in the one we have."""
        if tool in self._listing.tools:
            return self._listing
        return await self.refresh()

    def input_schema(self, tool: str) -> Mapping[str, Any] | None:
        """The input schema of ``tool`` as last listed (None: not known yet)."""
        known = self._listing.tools.get(tool)
        return known.input_schema if known is not None else None

    def facts(self, tool: types.Tool | None, name: str) -> ToolFacts:
        declared = self._settings.tools.get(name)
        risk = declared.risk if declared and declared.risk else _hinted_risk(
            tool, self._settings.default_risk)
        untrusted = declared.untrusted_output if declared and \
            declared.untrusted_output is not None else self._settings.untrusted_output
        return ToolFacts(risk, untrusted)

    # --- tools/list ------------------------------------------------------------------------

    def list_plan(self, exchange_id: ExchangeId) -> Plan:
        exchange = Exchange(exchange_id, "mcp.tools/list", Action.LIST_TOOLS, GATEWAY,
                            signals={"mcp_server": self.name})

        async def answer(flow: Flow) -> dict[str, Any]:
            listing = await self.refresh()
            shown, hidden, quarantined = [], 0, []
            for name, tool in listing.tools.items():
                verdict = listing.verdicts.get(name)
                if verdict is None or not verdict.usable:
                    quarantined.append(name)
                elif self._permitted(flow, name, tool):
                    shown.append(tool.model_dump(by_alias=True, exclude_none=True, mode="json"))
                else:
                    hidden += 1
            flow.notes.update({"tools_listed": len(shown), "tools_hidden": hidden,
                               "tools_quarantined": len(quarantined)})
            if quarantined:
                flow.notes["quarantined"] = " ".join(sorted(quarantined))[:512]
            return {"tools": shown}

        return Plan(exchange, self._reader, local=answer)

    def _permitted(self, flow: Flow, name: str, tool: types.Tool) -> bool:
        """Would calling ``name`` be allowed, judged without arguments or session taint?"""
        return self._may(flow, Action.CALL_TOOL, name,
                         self._tool_context(name, self.facts(tool, name)))

    # --- tools/call ------------------------------------------------------------------------

    def call_plan(self, params: types.CallToolRequestParams, listing: Listing, session: str,
                  exchange_id: ExchangeId) -> Plan:
        name = params.name
        tool = listing.tools.get(name)
        if tool is None:
            raise UnknownTool(f"MCP server {self.name!r} has no tool {name!r}", param="name")
        verdict = listing.verdicts.get(name)
        if verdict is None or not verdict.usable:
            reason = verdict.reason if verdict else "not pinned"
            raise ToolQuarantined(f"tool {self.name}/{name} is quarantined ({reason}); an "
                                  f"administrator must approve it: ztai mcp approve {self.name} "
                                  f"{name}")
        arguments = dict(params.arguments or {})
        strings = list(_strings(arguments))
        if len(strings) > MAX_ARGUMENT_STRINGS:
            raise BadRequest(f"tool arguments hold more than {MAX_ARGUMENT_STRINGS} strings",
                             param="arguments")
        facts = self.facts(tool, name)
        destinations = self._destinations.find(text for _, text in strings)
        taint = self._taint.of(session)
        segments = tuple(Segment(Role.ASSISTANT, text, "arguments" + _dotted(path))
                         for path, text in strings)
        exchange = Exchange(
            exchange_id, "mcp.tools/call", Action.CALL_TOOL,
            Resource(ResourceKind.TOOL, f"{self.name}/{name}"), segments,
            signals={"mcp_server": self.name, "tool": name, "tool_risk": facts.risk,
                     "session": session_signal(session), "destinations": len(destinations.domains),
                     "external_destinations": len(destinations.external)})
        context = {**self._tool_context(name, facts),
                   "destinations": destinations.domains,
                   "external_destinations": destinations.any_external,
                   **_taint_context(taint)}
        paths = [path for path, _ in strings]

        async def answer(flow: Flow) -> dict[str, Any]:
            sent = _with_rewrites(arguments, paths, flow.rewrites)
            result = await self._upstream.call_tool(name, sent)
            return self._inspected(flow, result, name, facts.untrusted_output, session)

        return Plan(exchange, self._reader, local=answer, context=context,
                    applies_rewrites=True, scan_answer=True)

    # --- resources/list, prompts/list ------------------------------------------------------

    def inventory_plan(self, route: str, fetch: Callable[[], Awaitable[list[Any]]], key: str,
                       exchange_id: ExchangeId) -> Plan:
        """Resources or prompts, each shown only if the caller may read or get it."""
        exchange = Exchange(exchange_id, route, Action.LIST_TOOLS, GATEWAY,
                            signals={"mcp_server": self.name})
        action = Action.READ_RESOURCE if key == "resources" else Action.GET_PROMPT

        async def answer(flow: Flow) -> dict[str, Any]:
            items = await fetch()
            shown, withheld = [], []
            for item in items:
                name = str(item.uri if key == "resources" else item.name)
                if not self._may(flow, action, name, {"tool_server": self.name,
                                                      "tool_name": name,
                                                      "tool_risk": self._settings.default_risk}):
                    continue
                definition = item.model_dump(by_alias=True, exclude_none=True, mode="json")
                if self._pins.flagged(definition):  # instructions hidden in a description
                    withheld.append(name)
                else:
                    shown.append(definition)
            flow.notes.update({f"{key}_listed": len(shown),
                               f"{key}_hidden": len(items) - len(shown) - len(withheld)})
            if withheld:
                flow.notes[f"{key}_withheld"] = " ".join(sorted(withheld))[:512]
            return {key: shown}

        return Plan(exchange, self._reader, local=answer)

    def _may(self, flow: Flow, action: Action, item: str, extra: Mapping[str, object]) -> bool:
        resource = Resource(ResourceKind.TOOL, f"{self.name}/{item}")
        return chain_denial(self._authorizer, flow.principal, action, resource,
                            {**flow.context, **extra}) is None

    # --- resources/read, prompts/get -------------------------------------------------------

    def resource_plan(self, uri: str, session: str, exchange_id: ExchangeId) -> Plan:
        """The resource's address goes to the server: data protection reads it (a key or an
        address in a query); a redaction is sent in its place (a server that has no such
        resource then says so)."""
        def fetch(flow: Flow) -> Awaitable[Any]:
            return self._upstream.read_resource(flow.rewrites.get(0, uri))

        return self._read_plan(Action.READ_RESOURCE, "mcp.resources/read", uri, session,
                               exchange_id, fetch, (Segment(Role.USER, uri, "uri", unread=True),))

    def prompt_plan(self, params: types.GetPromptRequestParams, session: str,
                    exchange_id: ExchangeId) -> Plan:
        """A prompt's arguments go to the server like a tool's: data protection reads them
        (a redaction is sent in place), the shield judges them as the user's."""
        arguments = dict(params.arguments or {})
        strings = list(_strings(arguments))
        if len(strings) > MAX_ARGUMENT_STRINGS:
            raise BadRequest(f"prompt arguments hold more than {MAX_ARGUMENT_STRINGS} strings",
                             param="arguments")
        paths = [path for path, _ in strings]

        def fetch(flow: Flow) -> Awaitable[Any]:
            return self._upstream.get_prompt(params.name,
                                             _with_rewrites(arguments, paths, flow.rewrites))

        return self._read_plan(Action.GET_PROMPT, "mcp.prompts/get", params.name, session,
                               exchange_id, fetch, tuple(
                                   Segment(Role.USER, text, "arguments" + _dotted(path))
                                   for path, text in strings))

    def _read_plan(self, action: Action, route: str, item: str, session: str,
                   exchange_id: ExchangeId, fetch: Callable[[Flow], Awaitable[Any]],
                   segments: tuple[Segment, ...]) -> Plan:
        """``fetch`` sends what ``segments`` read, with the protect stage's redactions."""
        exchange = Exchange(exchange_id, route, action,
                            Resource(ResourceKind.TOOL, f"{self.name}/{item}"), segments,
                            signals={"mcp_server": self.name, "session": session_signal(session)})
        context = {"tool_server": self.name, "tool_name": item,
                   "tool_risk": self._settings.default_risk,
                   **_taint_context(self._taint.of(session))}

        async def answer(flow: Flow) -> dict[str, Any]:
            return self._inspected(flow, await fetch(flow), item,
                                   self._settings.untrusted_output, session)

        return Plan(exchange, self._reader, local=answer, context=context,
                    applies_rewrites=True, scan_answer=True)

    # --- shared ----------------------------------------------------------------------------

    def _inspected(self, flow: Flow, result: Any, source: str, untrusted: bool,
                   session: str) -> dict[str, Any]:
        body: dict[str, Any] = result.model_dump(by_alias=True, exclude_none=True, mode="json")
        pieces = self._reader.pieces(body)
        if len(pieces) > MAX_RESULT_TEXTS:  # each is judged on its own: bound the work
            raise UpstreamError(f"the MCP server's answer holds {len(pieces)} texts, more than "
                                f"{MAX_RESULT_TEXTS}; it was withheld",
                                code="upstream_answer_too_large")
        size = sum(len(text) for _, text in pieces)
        if size > self._max_result_chars:
            raise UpstreamError(f"the MCP server's answer has {size} characters of text, more "
                                f"than mcp.max_result_chars ({self._max_result_chars}); it was "
                                "withheld", code="upstream_answer_too_large")
        verdict = self._scanner.scan(flow, pieces)
        if not verdict.scanned:
            flow.notes["result_shield"] = "not_scanned"
        if untrusted or verdict.attacked:
            taint = self._taint.mark(session, f"{self.name}/{source}", verdict.attacked)
            flow.notes["session_tainted"] = True
            flow.notes["session_attacked"] = taint.attacked
        if verdict.attacked:
            flow.notes["result_injection_score"] = verdict.score
            flow.notes["result_threats"] = " ".join(verdict.kinds)[:512]
        unscanned = unscanned_parts(body, pieces)
        if unscanned:
            flow.notes["result_unscanned_parts"] = unscanned
        meta = dict(body.get("_meta") or {})
        meta["ztai/exchange"] = flow.exchange.id
        meta["ztai/untrusted"] = untrusted or verdict.attacked
        if verdict.attacked:
            meta["ztai/threats"] = list(verdict.kinds)
        body["_meta"] = meta
        return body

    def _tool_context(self, name: str, facts: ToolFacts) -> dict[str, object]:
        return {"tool_server": self.name, "tool_name": name, "tool_risk": facts.risk,
                "tool_untrusted_output": facts.untrusted_output}


def _taint_context(taint: Taint) -> dict[str, object]:
    return {"untrusted_content": taint.untrusted, "tainted": taint.attacked,
            "taint_sources": taint.sources}


def _hinted_risk(tool: types.Tool | None, default: str) -> str:
    """The server's annotations as a floor, never to lower the configured default: a
    destructive tool is high risk, a read-only one stays at the default."""
    hints = tool.annotations if tool is not None else None
    if hints is not None and hints.destructive_hint:
        return "high"
    return default


class Key(str):
    """A path's last step that is an object's key itself, not the value under it: the key is
    read like any string (a secret or an address hidden there is found), but cannot be
    redacted in place."""

    __slots__ = ()


def _strings(value: Any, path: tuple[str | int, ...] = (), depth: int = 0
             ) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string of the arguments with its path: the leaves, and the objects' keys."""
    if depth > MAX_DEPTH:
        raise BadRequest("tool arguments are nested too deeply", param="arguments")
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*path, Key(key)), str(key)
            yield from _strings(item, (*path, str(key)), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i), depth + 1)


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f"{{{p}}}" if isinstance(p, Key)
                   else f".{p}" for p in path)


def _with_rewrites(arguments: dict[str, Any], paths: list[tuple[str | int, ...]],
                   rewrites: Mapping[int, str]) -> dict[str, Any]:
    """The arguments with redacted strings put in place (copy on write). A key that a rule
    would redact refuses the call: it cannot be changed without changing what the tool is
    asked."""
    if not rewrites:
        return arguments
    result: Any = _copy(arguments)
    for index, text in rewrites.items():
        node = result
        path = paths[index]
        if isinstance(path[-1], Key):
            # the path names where without the key's own text: it holds what a rule redacts,
            # and this message goes to the audit log
            where = _dotted(path[:-1])[:80] or "the top level"
            raise BadRequest(f"a key of the arguments (in {where}) holds content a DLP rule "
                             "redacts; a key cannot be redacted, so the call is refused",
                             param="arguments")
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = text
    return dict(result)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

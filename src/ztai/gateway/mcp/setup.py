"""The MCP gateway assembled from settings: one gate per configured upstream server, sharing
the pin book (tool-definition pins), the taint tracker and the prompt shield."""

from __future__ import annotations

from collections.abc import Sequence

from ztai.agents.destinations import DestinationFinder
from ztai.agents.pinning import Inspect, PinBook
from ztai.agents.taint import TaintTracker
from ztai.config.settings import Settings
from ztai.core.clock import Clock
from ztai.gateway.mcp.gate import McpGate
from ztai.gateway.mcp.results import ResultScanner
from ztai.gateway.mcp.upstream import McpUpstream
from ztai.gateway.toolcalls import ToolCallPolicy
from ztai.policy.interface import Authorizer
from ztai.storage.pins import PinStore
from ztai.threats.shield import Shield, Source


def build_gates(settings: Settings, authorizer: Authorizer, shield: Shield | None,
                pins: PinStore, clock: Clock) -> list[McpGate]:
    mcp = settings.mcp
    if not mcp.servers:
        return []
    book = PinBook(pins, clock, inspector(shield))
    taint = TaintTracker(clock, mcp.taint_ttl_s)
    destinations = DestinationFinder(mcp.internal_domains)
    scanner = ResultScanner(shield)
    return [McpGate(server, McpUpstream(server, settings.base_dir), book, taint, destinations,
                    authorizer, scanner, mcp.max_result_chars) for server in mcp.servers]


def inspector(shield: Shield | None) -> Inspect | None:
    """Tool definitions judged as documents a model reads: what the shield calls an attack."""
    if shield is None:
        return None

    def inspect(text: str) -> Sequence[str]:
        verdict = shield.scan(text, Source.DOCUMENT)
        if not verdict.attack:
            return ()
        return tuple(m.kind for m in verdict.matches) or ("threat.injection",)

    return inspect


def proposed_calls(settings: Settings, authorizer: Authorizer) -> ToolCallPolicy | None:
    """Authorization of the tool calls models propose on the OpenAI routes."""
    mcp = settings.mcp
    if not mcp.authorize_proposed_calls:
        return None
    declared = {name: tool.risk for name, tool in mcp.client_tools.items() if tool.risk}

    def risk(name: str) -> str:
        return declared.get(name, mcp.client_default_risk)

    return ToolCallPolicy(authorizer, DestinationFinder(mcp.internal_domains), risk)

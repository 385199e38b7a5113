"""``/mcp/<server>``: the MCP streamable-HTTP endpoint of one upstream server, served by the
official SDK's server and session manager, with ztai at both edges of every message.

- At the HTTP edge every request is authenticated like any other (API key, OIDC token, agent
  token, delegated token); a failure is answered 401 and audited through the pipeline. A
  session belongs to the principal that opened it: another principal presenting its id is
  refused.
- Inside, each MCP operation is one pipeline exchange (``gate.McpGate`` builds the plans). A
  denied tool call comes back as a tool error the agent can read (``isError``, with ztai's
  reason and exchange id), so an agent run continues with what it may do; a denied listing or
  read is a JSON-RPC error.
- The hot ``tools/call`` of the 2026-07-28 wire is answered here when it qualifies
  (``hotpath``: the SDK's own checks pass, else the SDK answers); the same handler runs it."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import mcp_types as types
import orjson
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ztai.agents.taint import session_key
from ztai.core.errors import AuthenticationFailed, NotFound, ProtocolRefusal, ZtaiError
from ztai.core.model import ExchangeId, Principal
from ztai.core.secret import Secret
from ztai.gateway.clientinfo import MetaReader, agent_run
from ztai.gateway.fastpath import no_body, respond
from ztai.gateway.mcp import hotpath
from ztai.gateway.mcp.gate import Listing, McpGate
from ztai.gateway.pipeline import Inbound, Outcome, Pipeline
from ztai.gateway.plan import Plan
from ztai.identity.header import parse_authorization
from ztai.identity.interface import Authenticator

MAX_SESSIONS = 10_000
POLICY_DENIED = -32003  # JSON-RPC server error range: ztai refused the operation
SESSION_HEADER = "x-ztai-session"
_OPERATIONS = "ztai_operations"  # pipeline exchanges run for this HTTP request

Translate = Callable[[bytes, ExchangeId], Plan]


class McpFront:
    def __init__(self, gate: McpGate, pipeline: Pipeline, authenticator: Authenticator,
                 meta: MetaReader, max_body_bytes: int) -> None:
        self.gate = gate
        self.path = f"/mcp/{gate.name}"
        self._pipeline, self._authenticator, self._meta = pipeline, authenticator, meta
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._max_body_bytes = max_body_bytes
        self.hot_calls = True  # answer qualifying tools/call requests without the SDK server
        self._server: Server[Any] = Server(
            f"ztai/{gate.name}", version="ztai",
            instructions=f"MCP server {gate.name!r} through the ztai gateway",
            # header validation reads the schema from the last listing, not a new tools/list
            get_tool_input_schema=gate.input_schema,
            on_list_tools=self._list_tools, on_call_tool=self._call_tool,
            on_list_resources=self._list_resources, on_read_resource=self._read_resource,
            on_list_prompts=self._list_prompts, on_get_prompt=self._get_prompt)
        self._manager = StreamableHTTPSessionManager(
            app=self._server, json_response=True,
            # every request carries a credential that is checked: no ambient authority for a
            # rebinding page to ride on, and ztai may be reached under any host name
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=max_body_bytes, max_sessions=MAX_SESSIONS)

    def lifespan(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._manager.run()

    # --- the HTTP edge ---------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        header = _header(scope, b"authorization")
        try:
            principal = await self._authenticator.authenticate(parse_authorization(header))
        except ZtaiError:
            outcome = await self._pipeline.run(self._inbound(header, scope, no_body), _never)
            await respond(outcome, scope, receive, send)
            return
        owner = f"{principal.kind.value}:{principal.id}"
        session = _header(scope, b"mcp-session-id")
        if session is not None and self._owners.get(session) != owner:  # unknown: refused too
            await respond(await self._refuse(header, scope, principal, NotFound(
                "unknown MCP session for this caller", code="session_not_found")),
                scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["ztai_principal"] = principal
        state[_OPERATIONS] = 0
        if self.hot_calls:
            headers = Headers(scope=scope)
            if hotpath.candidate(scope, headers, self._max_body_bytes):
                body, messages = await hotpath.read_body(receive, self._max_body_bytes)
                call = hotpath.read_call(body, headers, self.gate.input_schema) \
                    if body is not None else None
                if call is not None:
                    await self._hot_call(call, Request(scope), send)
                    return
                receive = hotpath.replay(messages, receive)
        held = _HeldRefusal(self._owning(send, owner), state)
        await self._manager.handle_request(scope, receive, held.send)
        refusal = held.refusal()
        if refusal is not None:
            status, reason = refusal
            outcome = await self._refuse(header, scope, principal, ProtocolRefusal(
                f"the MCP server layer refused the request: {reason}", status=status))
            if outcome.status != status:  # not recorded (the audit log failed): ztai's error
                await respond(outcome, scope, receive, send)
                return
        await held.release()  # recorded, or no refusal: the SDK's answer as it gave it

    async def _refuse(self, header: str | None, scope: Scope, principal: Principal,
                      error: ZtaiError) -> Outcome:
        """A request refused before any MCP operation ran, recorded through the pipeline."""

        async def authenticated() -> Principal:
            return principal

        def refused(body: bytes, exchange_id: ExchangeId) -> Plan:
            raise error

        return await self._pipeline.run(self._inbound(header, scope, no_body, authenticated),
                                        refused)

    async def _hot_call(self, call: hotpath.HotCall, request: Request, send: Send) -> None:
        try:
            result = await self._tool_result(request, call.params)
        except Exception as exc:  # noqa: BLE001  # mapped to the JSON-RPC error the SDK sends
            status, body = hotpath.exception_message(call, exc)
        else:
            status, body = hotpath.result_message(call, result,
                                                  lambda: self._server.server_info_stamp)
        await hotpath.send_message(send, status, body)

    def _owning(self, send: Send, owner: str) -> Send:
        """Remember which principal a new session belongs to, from the response header."""

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", ()):
                    if name.lower() == b"mcp-session-id":
                        self._owners[value.decode("latin-1")] = owner
                        while len(self._owners) > MAX_SESSIONS:
                            self._owners.popitem(last=False)
            await send(message)

        return sending

    # --- MCP operations, each one pipeline exchange ----------------------------------------

    async def _list_tools(self, ctx: ServerRequestContext[Any],
                          params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        outcome = await self._run(ctx, no_body, lambda _, exchange_id: self.gate.list_plan(
            exchange_id))
        return types.ListToolsResult.model_validate(_answer(outcome))

    async def _call_tool(self, ctx: ServerRequestContext[Any],
                         params: types.CallToolRequestParams) -> types.CallToolResult:
        return types.CallToolResult.model_validate(await self._tool_result(_request(ctx),
                                                                           params))

    async def _tool_result(self, request: Request, params: types.CallToolRequestParams
                           ) -> dict[str, Any]:
        """The call's result in its wire form (a refusal is a tool error)."""
        listing: list[Listing] = []

        async def prepare() -> bytes:  # inside the pipeline, after authentication
            listing.append(await self.gate.known(params.name))
            return b""

        session = _session_key(request)
        outcome = await self._run_for(request, prepare, lambda _, exchange_id:
                                      self.gate.call_plan(params, listing[0], session,
                                                          exchange_id))
        if outcome.status == 200:
            result: dict[str, Any] = orjson.loads(outcome.body)
            return result
        if outcome.status == 401:
            raise _refusal(outcome)
        code, message = _error(outcome)
        return {"content": [{"type": "text", "text": f"ztai refused this call: {message}"}],
                "isError": True, "resultType": "complete",
                "_meta": {"ztai/exchange": outcome.exchange_id, "ztai/refused": code}}

    async def _list_resources(self, ctx: ServerRequestContext[Any],
                              params: types.PaginatedRequestParams | None,
                              ) -> types.ListResourcesResult:
        outcome = await self._run(ctx, no_body, self._listing_plan(
            "mcp.resources/list", self.gate.upstream.list_resources, "resources"))
        return types.ListResourcesResult.model_validate(_answer(outcome))

    async def _list_prompts(self, ctx: ServerRequestContext[Any],
                            params: types.PaginatedRequestParams | None,
                            ) -> types.ListPromptsResult:
        outcome = await self._run(ctx, no_body, self._listing_plan(
            "mcp.prompts/list", self.gate.upstream.list_prompts, "prompts"))
        return types.ListPromptsResult.model_validate(_answer(outcome))

    async def _read_resource(self, ctx: ServerRequestContext[Any],
                             params: types.ReadResourceRequestParams,
                             ) -> types.ReadResourceResult:
        session = self._session(ctx)
        outcome = await self._run(ctx, no_body, lambda _, exchange_id: self.gate.resource_plan(
            params.uri, session, exchange_id))
        return types.ReadResourceResult.model_validate(_answer(outcome))

    async def _get_prompt(self, ctx: ServerRequestContext[Any],
                          params: types.GetPromptRequestParams) -> types.GetPromptResult:
        session = self._session(ctx)
        outcome = await self._run(ctx, no_body, lambda _, exchange_id: self.gate.prompt_plan(
            params, session, exchange_id))
        return types.GetPromptResult.model_validate(_answer(outcome))

    def _listing_plan(self, route: str, fetch: Callable[[], Awaitable[list[Any]]], key: str
                      ) -> Translate:
        def translate(_: bytes, exchange_id: ExchangeId) -> Plan:
            return self.gate.inventory_plan(route, fetch, key, exchange_id)

        return translate

    async def _run(self, ctx: ServerRequestContext[Any], read: Callable[[], Awaitable[bytes]],
                   translate: Translate) -> Outcome:
        return await self._run_for(_request(ctx), read, translate)

    async def _run_for(self, request: Request, read: Callable[[], Awaitable[bytes]],
                       translate: Translate) -> Outcome:
        state = request.scope["state"]
        principal: Principal = state["ztai_principal"]
        state[_OPERATIONS] = state.get(_OPERATIONS, 0) + 1

        async def authenticated() -> Principal:  # at this request's HTTP edge, just now
            return principal

        return await self._pipeline.run(self._inbound(
            request.headers.get("authorization"), request.scope, read, authenticated), translate)

    def _inbound(self, header: str | None, scope: Scope, read: Callable[[], Awaitable[bytes]],
                 authenticate: Callable[[], Awaitable[Principal]] | None = None) -> Inbound:
        return Inbound(f"mcp.{self.gate.name}", Secret(header) if header else None, read,
                       self._meta.read(scope), authenticate=authenticate)

    def _session(self, ctx: ServerRequestContext[Any]) -> str:
        return _session_key(_request(ctx))


class _HeldRefusal:
    """Holds the SDK's JSON answer to a request for which no MCP operation ran, until it is
    known whether it is a refusal (an HTTP error, or a JSON-RPC error, which a legacy session
    sends with status 200): each refusal is recorded in the audit log before the client sees
    it, as every operation is (before 2026-11-28 none was, nor a request naming another
    principal's session). Event streams are never held; an HTTP error of any kind is."""

    def __init__(self, send: Send, state: dict[str, Any]) -> None:
        self._send, self._state = send, state
        self._holding = False
        self._held: list[Message] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._holding = not self._state.get(_OPERATIONS) and (
                message["status"] >= 400 or _is_json(message))
        if self._holding:
            self._held.append(message)
        else:
            await self._send(message)

    def refusal(self) -> tuple[int, str] | None:
        """The status to record (the HTTP status, 400 for a JSON-RPC error sent with 200) and
        the SDK's message, when the held answer refuses the request; None otherwise."""
        if not self._held:
            return None
        status: int = self._held[0]["status"]
        body = b"".join(m.get("body", b"") for m in self._held
                        if m["type"] == "http.response.body")
        try:
            error = orjson.loads(body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        if status < 400 and not isinstance(error, dict):
            return None
        message = error.get("message") if isinstance(error, dict) else None
        return (status if status >= 400 else 400,
                str(message)[:500] if message is not None else f"status {status}")

    async def release(self) -> None:
        for message in self._held:
            await self._send(message)
        self._held = []


def _is_json(start: Message) -> bool:
    return any(name.lower() == b"content-type" and value.lower().startswith(b"application/json")
               for name, value in start.get("headers", ()))


def _session_key(request: Request) -> str:
    principal: Principal = request.scope["state"]["ztai_principal"]
    named = agent_run(request.headers.get(SESSION_HEADER, "").encode("latin-1"))
    return session_key(principal, named or request.headers.get("mcp-session-id"))


def _request(ctx: ServerRequestContext[Any]) -> Request:
    request = ctx.request
    if not isinstance(request, Request) or "ztai_principal" not in request.scope.get("state", {}):
        raise MCPError(POLICY_DENIED, "ztai serves MCP only over its authenticated HTTP edge")
    return request


def _answer(outcome: Outcome) -> dict[str, Any]:
    if outcome.status != 200:
        raise _refusal(outcome)
    answer: dict[str, Any] = orjson.loads(outcome.body)
    return answer


def _refusal(outcome: Outcome) -> MCPError:
    code, message = _error(outcome)
    return MCPError(POLICY_DENIED, f"ztai refused this request: {message}",
                    {"code": code, "status": outcome.status, "exchange": outcome.exchange_id})


def _error(outcome: Outcome) -> tuple[str, str]:
    try:
        error = orjson.loads(outcome.body)["error"]
        return str(error.get("code")), str(error.get("message"))
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return "denied", f"status {outcome.status}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def _never(body: bytes, exchange_id: ExchangeId) -> Plan:
    raise AuthenticationFailed("not authenticated")


@contextlib.asynccontextmanager
async def running(fronts: list[McpFront]) -> AsyncIterator[None]:
    """Every front's session manager, for the gateway's lifespan; upstreams closed after."""
    async with contextlib.AsyncExitStack() as stack:
        for front in fronts:
            await stack.enter_async_context(front.lifespan())
            stack.push_async_callback(front.gate.upstream.aclose)
        yield

"""The connection to one upstream MCP server, through the official SDK's client: streamable
HTTP for a URL, or a subprocess spoken to over stdio that ztai launches.

One client session per upstream is shared by every caller: ztai is the one client the server
sees and enforces per-caller rights itself. The session is owned by a background task (the
SDK's transports use task-bound cancel scopes), opened on first use and re-opened after it
fails; callers see ``UpstreamError`` (502/504) meanwhile, never a hang longer than ``timeout_s``.
On the 2026-07-28 HTTP wire the hot ``tools/call`` is sent by ``wire.ToolCallSender``, stamped
by that session (see there); everything else goes through the SDK client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from typing import Any

import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from ztai.config.settings import ConfigError, McpServerSettings
from ztai.core.errors import UpstreamError
from ztai.gateway.mcp.wire import HeaderMismatch, HttpError, ToolCallSender, lean_sender

log = logging.getLogger("ztai.mcp")
MAX_PAGES = 100  # a listing longer than this many pages is refused, not truncated


class McpUpstream:
    def __init__(self, settings: McpServerSettings, base_dir: str | os.PathLike[str] = ".",
                 ) -> None:
        self.name = settings.name
        self._settings = settings
        self._base_dir = base_dir
        self._client: Client | None = None
        self._sender: ToolCallSender | None = None
        self._tls: ssl.SSLContext | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._lock = asyncio.Lock()
        self._headers = _headers(settings)

    async def list_tools(self) -> list[types.Tool]:
        return await self._all_pages(lambda c, cursor: c.list_tools(cursor=cursor,
                                                                     cache_mode="refresh"),
                                     lambda page: page.tools)

    async def list_resources(self) -> list[types.Resource]:
        return await self._all_pages(lambda c, cursor: c.list_resources(cursor=cursor,
                                                                         cache_mode="refresh"),
                                     lambda page: page.resources)

    async def list_prompts(self) -> list[types.Prompt]:
        return await self._all_pages(lambda c, cursor: c.list_prompts(cursor=cursor,
                                                                       cache_mode="refresh"),
                                     lambda page: page.prompts)

    async def call_tool(self, name: str, arguments: dict[str, Any] | None
                        ) -> types.CallToolResult:
        client = await self._connected()
        sender = self._sender
        if sender is not None:
            try:
                lean: types.CallToolResult = await self._bounded(sender.call_tool(name,
                                                                                  arguments))
                return lean
            except HeaderMismatch:
                pass  # nothing ran: the SDK client re-lists the tool and sends the call again
        result: types.CallToolResult = await self._bounded(client.call_tool(
            name, arguments, read_timeout_seconds=self._settings.timeout_s))
        return result

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        client = await self._connected()
        result: types.ReadResourceResult = await self._bounded(
            client.read_resource(uri, cache_mode="refresh"))
        return result

    async def get_prompt(self, name: str, arguments: dict[str, str] | None
                         ) -> types.GetPromptResult:
        client = await self._connected()
        result: types.GetPromptResult = await self._bounded(client.get_prompt(name, arguments))
        return result

    async def _all_pages(self, fetch: Any, items: Any) -> list[Any]:
        client = await self._connected()
        found: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._bounded(fetch(client, cursor))
            found.extend(items(page))
            cursor = page.next_cursor
            if cursor is None:
                return found
        raise UpstreamError(f"MCP server {self.name!r} lists more than {MAX_PAGES} pages")

    async def _bounded(self, call: Any) -> Any:
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                return await call
        except TimeoutError:
            raise UpstreamError(f"MCP server {self.name!r} did not answer in "
                                f"{self._settings.timeout_s:g} s", status=504) from None
        except MCPError as exc:  # the server's JSON-RPC error: its answer, not ztai's failure
            # (before 2026-11-28 it became "internal error while deciding", 503, logged with a
            # traceback); its message is text from the server, which nothing has judged: the
            # caller gets the code only
            raise UpstreamError(f"MCP server {self.name!r} answered JSON-RPC error "
                                f"{exc.error.code} (its message is not passed on)",
                                code="upstream_mcp_error") from None
        except HttpError as exc:  # the lean sender's own connection; the session is intact
            raise UpstreamError(f"MCP server {self.name!r}: connection lost "
                                f"({type(exc).__name__})") from None
        except (OSError, httpx2.HTTPError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not self._broken():
                raise
            await self._reset()
            raise UpstreamError(f"MCP server {self.name!r}: connection lost "
                                      f"({type(exc).__name__})") from None

    def _broken(self) -> bool:
        return self._task is None or self._task.done()

    async def _connected(self) -> Client:
        if self._client is not None and not self._broken():
            return self._client
        async with self._lock:
            if self._client is not None and not self._broken():
                return self._client
            await self._reset()
            ready, self._closing = asyncio.Event(), asyncio.Event()
            self._failure = None
            self._task = asyncio.create_task(self._own(ready, self._closing),
                                             name=f"mcp-upstream-{self.name}")
            try:
                async with asyncio.timeout(self._settings.timeout_s):
                    await ready.wait()
            except TimeoutError:
                await self._reset()
                raise UpstreamError(f"MCP server {self.name!r}: no connection within "
                                          f"{self._settings.timeout_s:g} s") from None
            if self._client is None:
                detail = type(self._failure).__name__ if self._failure else "closed"
                raise UpstreamError(f"MCP server {self.name!r}: cannot connect "
                                          f"({detail})")
            return self._client

    async def _own(self, ready: asyncio.Event, closing: asyncio.Event) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = await stack.enter_async_context(Client(
                    await self._transport(stack), cache=None,
                    read_timeout_seconds=self._settings.timeout_s))
                if self._settings.url is not None:
                    self._sender = await self._lean_sender(client, stack)
                self._client = client
                ready.set()
                await closing.wait()
        except Exception as exc:  # noqa: BLE001  # reported to waiting callers, then re-opened
            self._failure = exc
            log.warning("MCP server %s: session ended: %s", self.name, type(exc).__name__)
        finally:
            self._client, self._sender = None, None
            ready.set()

    async def _lean_sender(self, client: Client, stack: contextlib.AsyncExitStack
                           ) -> ToolCallSender | None:
        url = self._settings.url
        assert url is not None  # noqa: S101  # called for URL servers only
        if url.startswith("https://") and self._tls is None:
            # the trust the SDK's HTTP client has (reading it is file I/O: not on the loop)
            try:
                self._tls = await asyncio.to_thread(_tls_context)
            except OSError:  # ssl.SSLError included: the SDK client sends every call
                log.warning("MCP server %s: no TLS context for tool calls", self.name)
                return None
        sender = lean_sender(client.session, url, self._headers, self._settings.timeout_s,
                             self._tls)
        if sender is not None:
            stack.push_async_callback(sender.aclose)
        return sender

    async def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        s = self._settings
        if s.url is not None:
            http = await stack.enter_async_context(httpx2.AsyncClient(
                headers=self._headers, timeout=s.timeout_s, follow_redirects=False))
            return streamable_http_client(s.url, http_client=http)
        assert s.command is not None  # noqa: S101  # settings validation guarantees one
        cwd = os.path.join(self._base_dir, s.cwd) if s.cwd is not None else None
        return StdioServerParameters(command=s.command, args=list(s.args),
                                     env={**_inherited_env(), **s.env}, cwd=cwd)

    async def _reset(self) -> None:
        task, closing = self._task, self._closing
        self._task, self._client, self._sender = None, None, None
        if task is None:
            return
        if closing is not None:
            closing.set()
        try:
            async with asyncio.timeout(5.0):
                await task
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def aclose(self) -> None:
        await self._reset()


def _headers(settings: McpServerSettings) -> dict[str, str]:
    headers = {}
    for header, variable in settings.headers_env.items():
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(f"mcp server {settings.name}: environment variable {variable} "
                              f"(for header {header}) is unset")
        headers[header] = value
    return headers


def _tls_context() -> ssl.SSLContext:
    context = httpx2.create_ssl_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _inherited_env() -> dict[str, str]:
    """What a launched server inherits: enough to run, none of ztai's own secrets."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k in keep}

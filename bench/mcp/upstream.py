"""The upstream MCP server of the benchmark: the official SDK's MCPServer over streamable HTTP
with two tools, a small lookup (the common case) and one returning about 4 KB of text (what a
read-mail or fetch tool returns, all of which ztai scans)."""

from __future__ import annotations

import sys

from mcp.server import MCPServer

PARAGRAPH = ("The quarterly planning review moves to Thursday at ten. Please bring the updated "
             "figures for the regional offices and the hiring plan for the next two quarters. ")

server = MCPServer("bench")


@server.tool()
def lookup(key: str) -> str:
    """Look up a short value by key."""
    return f"value of {key}"


@server.tool()
def read_document(name: str) -> str:
    """Read a document (about 4 KB of text)."""
    return f"{name}\n\n" + PARAGRAPH * 24


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))

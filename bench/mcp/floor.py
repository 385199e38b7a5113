"""What any proxy in the MCP path costs on this machine, before it does anything: the same
SDK client calls as ``run.py`` (a new argument each call), directly and through two relays that
inspect nothing, interleaved in blocks, medians of the blocks' medians.

- ``tcp``: an asyncio relay that copies bytes both ways between the client's connection and one
  to the upstream (no HTTP parsing): the kernel hops and two event-loop wake-ups per message,
  the floor of any proxy written in Python.
- ``http``: uvicorn (httptools, as ``ztai serve``) and an ASGI app that forwards each POST to
  the upstream over ztai's HTTP/1.1 client and answers with its status, content type and body
  (JSON responses only, which is what a 2026-07-28 sessionless ``tools/call`` gets): the floor
  of an HTTP gateway built on ztai's stack.

``ztai serve`` in its default configuration (as in ``run.py``) is measured in the same rounds.
Overhead = a path's p50 − the direct p50, as in ``run.py``; ztai's overhead minus the ``http``
relay's is what its checks, pipeline and audit add.

    .venv/bin/python bench/mcp/floor.py            # about a minute
    .venv/bin/python bench/mcp/floor.py --quick

Results: bench/results/mcp-floor.md and mcp-floor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402  (bench/mcp/run.py: the same calls, ports and processes)
    PYTHON,
    RESULTS,
    TOOLS,
    ZTAI,
    _exit_on_sigterm,
    block,
    cpu_seconds,
    free_port,
    setup_ztai,
    wait_port,
)

RELAYS = ("tcp", "http")
PATHS = (*RELAYS, "ztai")


# ------------------------------------------------------------------- the relays (subprocesses)

async def tcp_relay(port: int, upstream_port: int) -> None:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def serve(client_reader: asyncio.StreamReader,
                    client_writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer),
                             return_exceptions=True)

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def http_relay(port: int, upstream_port: int) -> None:
    import uvicorn

    from ztai.upstream.http1.client import Http1Client
    from ztai.upstream.http1.model import prepare_post
    from ztai.upstream.model import Pool, Timeouts

    client = Http1Client(Timeouts(), Pool())
    url = f"http://127.0.0.1:{upstream_port}/mcp"
    passed = ("accept", "content-type", "mcp-protocol-version", "mcp-session-id")

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                  send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]
                   if k.decode() in passed or k.decode().startswith("mcp-")}
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 405, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        response = await client.request(prepare_post(url, headers), body, 30.0)
        try:
            data = await response.read(1 << 24)
            while piece := await response.receive():
                data += piece
        finally:
            response.release()
        out = [(b"content-type", (response.header("content-type") or "").encode()),
               (b"content-length", str(len(data)).encode())]
        if session := response.header("mcp-session-id"):
            out.append((b"mcp-session-id", session.encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": out})
        await send({"type": "http.response.body", "body": data})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="httptools",
                loop="asyncio", lifespan="off")


# ------------------------------------------------------------------------------- measuring

async def measure(direct_url: str, relay_urls: dict[str, str], pids: dict[str, int],
                  key: str, rounds: int, per_block: int) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx2.AsyncClient(timeout=30))
        auth = await stack.enter_async_context(
            httpx2.AsyncClient(timeout=30, headers={"authorization": f"Bearer {key}"}))
        urls = {"direct": direct_url, **relay_urls}
        clients = {name: await stack.enter_async_context(Client(streamable_http_client(
                       url, http_client=auth if name == "ztai" else http)))
                   for name, url in urls.items()}
        results: dict[str, Any] = {}
        for tool in TOOLS:
            for c in clients.values():
                await block(c, tool, 20)
            p50s: dict[str, list[float]] = {name: [] for name in clients}
            cpu: dict[str, list[float]] = {name: [] for name in relay_urls}
            for _ in range(rounds):
                for name, c in clients.items():
                    before = cpu_seconds(pids[name]) if name in pids else 0.0
                    times = await block(c, tool, per_block)
                    if name in pids:
                        cpu[name].append((cpu_seconds(pids[name]) - before) / per_block)
                    p50s[name].append(statistics.median(times))
            direct = statistics.median(p50s["direct"])
            results[tool] = {"direct_p50_ms": direct * 1000, **{
                name: {"p50_ms": statistics.median(p50s[name]) * 1000,
                       "overhead_p50_ms": (statistics.median(p50s[name]) - direct) * 1000,
                       "cpu_ms_per_call": statistics.median(cpu[name]) * 1000}
                for name in relay_urls}}
        return results


def report(results: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = ["# MCP: what a relay that inspects nothing costs, beside ztai", "",
             f"{meta['when']} · {meta['machine']} · {meta['rounds']} rounds × "
             f"{meta['per_block']} calls per path, interleaved; medians of block medians.",
             f"Command: `{meta['command']}`", "",
             "Overhead p50 over the direct call / CPU of the proxy process per call.", "",
             "| tool | direct p50 | tcp relay | http relay (uvicorn + ztai's HTTP client) "
             "| ztai (default configuration) | ztai − http relay |",
             "|---|---|---|---|---|---|"]
    for tool, r in results.items():
        cells = [f"{r[p]['overhead_p50_ms']:.2f} ms / {r[p]['cpu_ms_per_call']:.2f} ms"
                 for p in PATHS]
        extra = r["ztai"]["overhead_p50_ms"] - r["http"]["overhead_p50_ms"]
        extra_cpu = r["ztai"]["cpu_ms_per_call"] - r["http"]["cpu_ms_per_call"]
        lines.append(f"| {tool} | {r['direct_p50_ms']:.2f} ms | {' | '.join(cells)} | "
                     f"{extra:.2f} ms / {extra_cpu:.2f} ms |")
    lines += ["", "Target (issue #6): ztai's overhead ≤ 2 ms p50.", ""]
    return "\n".join(lines)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--relay", choices=RELAYS, help=argparse.SUPPRESS)  # child process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay == "tcp":
        asyncio.run(tcp_relay(args.port, args.upstream_port))
        return
    if args.relay == "http":
        http_relay(args.port, args.upstream_port)
        return
    rounds, per_block = (3, 50) if args.quick else (9, 100)
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            up_port = free_port()
            upstream = subprocess.Popen([str(PYTHON), str(HERE / "upstream.py"), str(up_port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(upstream)
            wait_port(up_port, upstream)
            urls, pids = {}, {}
            for relay in RELAYS:
                port = free_port()
                proc = subprocess.Popen([str(PYTHON), __file__, "--relay", relay, "--port",
                                         str(port), "--upstream-port", str(up_port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                procs.append(proc)
                wait_port(port, proc)
                urls[relay], pids[relay] = f"http://127.0.0.1:{port}/mcp", proc.pid
            z_port = free_port()
            config, key = setup_ztai(Path(tmp), f"http://127.0.0.1:{up_port}/mcp", z_port)
            env = {k: v for k, v in os.environ.items() if not k.startswith("ZTAI_")}
            with (Path(tmp) / "ztai.log").open("wb") as log:
                ztai = subprocess.Popen([str(ZTAI), "serve", "--config", str(config)],
                                        stdout=log, stderr=subprocess.STDOUT, env=env,
                                        cwd=config.parent)
            procs.append(ztai)
            wait_port(z_port, ztai)
            urls["ztai"], pids["ztai"] = f"http://127.0.0.1:{z_port}/mcp/bench", ztai.pid
            results = asyncio.run(measure(f"http://127.0.0.1:{up_port}/mcp", urls, pids, key,
                                          rounds, per_block))
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=10)
    meta = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "rounds": rounds, "per_block": per_block,
            "command": " ".join([".venv/bin/python bench/mcp/floor.py", *sys.argv[1:]])}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mcp-floor.json").write_text(json.dumps({"meta": meta, "results": results},
                                                       indent=2))
    text = report(results, meta)
    (RESULTS / "mcp-floor.md").write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())

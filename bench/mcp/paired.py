"""Two ztai servers side by side against one upstream: the same SDK client calls as ``run.py``
(a new argument each call), direct and through each server, interleaved in blocks (the two
servers' order swapped every round), medians of the blocks' medians and the paired median of
their differences. For a change too small for ``run.py``'s run-to-run noise: two code trees
(``--tree``), or one tree in two configurations (``--set-a`` / ``--set-b``).

    # the code of another commit against the working tree
    git worktree add /tmp/before <commit>
    .venv/bin/python bench/mcp/paired.py --tree-a /tmp/before
    # the audit's fsync off against the default
    .venv/bin/python bench/mcp/paired.py --set-b ZTAI_AUDIT__FSYNC=false

A tree is put first on the server's PYTHONPATH (its ``src``); the default for both is this
checkout. Prints one line per tool; writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from run import (
    HERE,
    PYTHON,
    REPO,
    TOOLS,
    ZTAI,
    block,
    cpu_seconds,
    free_port,
    setup_ztai,
    wait_port,
)


def server_env(tree: Path, overrides: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZTAI_")}
    env["PYTHONPATH"] = str(tree / "src")
    env.update(item.split("=", 1) for item in overrides)
    return env


async def measure(direct_url: str, servers: list[tuple[str, str, int]], rounds: int,
                  per_block: int) -> None:
    async with AsyncExitStack() as stack:
        plain = await stack.enter_async_context(httpx2.AsyncClient(timeout=30))
        direct = await stack.enter_async_context(
            Client(streamable_http_client(direct_url, http_client=plain)))
        clients = []
        for url, key, _ in servers:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(timeout=30, headers={"authorization": f"Bearer {key}"}))
            clients.append(await stack.enter_async_context(
                Client(streamable_http_client(url, http_client=http))))
        for tool in TOOLS:
            for client in (direct, *clients):
                await block(client, tool, 30)  # warm: caches and pools
            p50: dict[str, list[float]] = {"direct": [], "A": [], "B": []}
            cpu: dict[str, list[float]] = {"A": [], "B": []}
            for r in range(rounds):
                order: list[tuple[str, Any, int | None]] = [
                    ("A", clients[0], servers[0][2]), ("B", clients[1], servers[1][2])]
                for name, client, pid in [("direct", direct, None),
                                          *(order if r % 2 == 0 else order[::-1])]:
                    before = cpu_seconds(pid) if pid else 0.0
                    times = await block(client, tool, per_block)
                    if pid:
                        cpu[name].append((cpu_seconds(pid) - before) / per_block)
                    p50[name].append(statistics.median(times))
            direct_ms = statistics.median(p50["direct"]) * 1000
            added = {n: statistics.median(p50[n]) * 1000 - direct_ms for n in ("A", "B")}
            paired = statistics.median(b - a for a, b in zip(p50["A"], p50["B"], strict=True))
            print(f"{tool}: direct {direct_ms:.2f} ms; added p50 A {added['A']:.2f} ms "
                  f"(CPU {statistics.median(cpu['A']) * 1000:.2f} ms/call), B {added['B']:.2f} "
                  f"ms (CPU {statistics.median(cpu['B']) * 1000:.2f}); B - A paired median "
                  f"{paired * 1000:+.3f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree-a", type=Path, default=REPO)
    parser.add_argument("--tree-b", type=Path, default=REPO)
    parser.add_argument("--set-a", action="append", default=[], metavar="ZTAI_X__Y=V")
    parser.add_argument("--set-b", action="append", default=[], metavar="ZTAI_X__Y=V")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-block", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        up_port = free_port()
        upstream = subprocess.Popen([str(PYTHON), str(HERE / "upstream.py"), str(up_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs = [upstream]
        try:
            wait_port(up_port, upstream)
            direct_url = f"http://127.0.0.1:{up_port}/mcp"
            servers = []
            for name, tree, overrides in (("a", args.tree_a, args.set_a),
                                          ("b", args.tree_b, args.set_b)):
                home, port = work / name, free_port()
                home.mkdir()
                config, key = setup_ztai(home, direct_url, port)
                proc = subprocess.Popen(
                    [str(ZTAI), "serve", "--config", str(config)], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, env=server_env(tree.resolve(), overrides),
                    cwd=config.parent)
                procs.append(proc)
                wait_port(port, proc)
                servers.append((f"http://127.0.0.1:{port}/mcp/bench", key, proc.pid))
            asyncio.run(measure(direct_url, servers, args.rounds, args.per_block))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

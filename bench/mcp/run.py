"""MCP gateway overhead: a tool call through ztai's /mcp/<server> vs the same call made
directly to the server, with the official SDK client on both paths.

Three processes on 127.0.0.1: the upstream MCP server (bench/mcp/upstream.py), ``ztai serve``
(its default configuration: API key authentication, Cedar, the prompt shield and DLP on
arguments and results, the audit chain with fsync, tool pinning, taint), and this client.
Calls alternate between the two paths in blocks; each figure is the median of the blocks'
medians. Overhead = p50 through ztai − p50 direct. Also reported: ztai's CPU time per call.

    .venv/bin/python bench/mcp/run.py            # ~1 minute
    .venv/bin/python bench/mcp/run.py --quick    # ~15 s

Results: bench/results/mcp.md and mcp.json. Target (issue #6): overhead ≤ 2 ms p50.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULTS = REPO / "bench" / "results"
ZTAI = REPO / ".venv" / "bin" / "ztai"
PYTHON = REPO / ".venv" / "bin" / "python"
TOOLS = {"lookup": ("key", "region-{}"), "read_document": ("name", "planning-{}.txt")}
# every call's argument (and so its result) is new: ztai remembers what it scanned per caller,
# and a benchmark repeating one call would measure that memory, not a tool call
_CALLS = itertools.count()


def arguments(tool: str) -> dict[str, str]:
    name, value = TOOLS[tool]
    return {name: value.format(next(_CALLS))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setup_ztai(work: Path, upstream_url: str, port: int) -> tuple[Path, str]:
    home = work / "ztai"
    subprocess.run([str(ZTAI), "init", str(home)], check=True, capture_output=True)
    config = home / "ztai.yaml"
    settings = yaml.safe_load(config.read_text())
    settings.setdefault("server", {}).update({"host": "127.0.0.1", "port": port})
    settings["mcp"] = {"servers": [{"name": "bench", "url": upstream_url}],
                       "internal_domains": ["corp.example"]}
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    out = subprocess.run([str(ZTAI), "keys", "create", "--config", str(config), "--principal",
                          "bench", "--kind", "service", "--group", "staff", "--json"],
                         check=True, capture_output=True)
    return config, json.loads(out.stdout)["key"]


async def block(client: Client, tool: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        result = await client.call_tool(tool, arguments(tool))
        times.append(time.perf_counter() - started)
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {result.content}")
    return times


async def measure(direct_url: str, ztai_url: str, key: str, ztai_pid: int, rounds: int,
                  per_block: int, mode: str) -> dict[str, Any]:
    async with httpx2.AsyncClient(timeout=30) as plain, \
            httpx2.AsyncClient(timeout=30, headers={"authorization": f"Bearer {key}"}) as auth, \
            Client(streamable_http_client(direct_url, http_client=plain), mode=mode) as direct, \
            Client(streamable_http_client(ztai_url, http_client=auth), mode=mode) as through:
        await direct.list_tools()
        await through.list_tools()
        results: dict[str, Any] = {}
        for tool in TOOLS:
            await block(direct, tool, 20)
            await block(through, tool, 20)  # warm: JIT-free, but caches and pools
            direct_p50, ztai_p50, direct_p99, ztai_p99, cpu = [], [], [], [], []
            for _ in range(rounds):
                d = await block(direct, tool, per_block)
                before = cpu_seconds(ztai_pid)
                z = await block(through, tool, per_block)
                cpu.append((cpu_seconds(ztai_pid) - before) / per_block)
                direct_p50.append(statistics.median(d))
                ztai_p50.append(statistics.median(z))
                direct_p99.append(statistics.quantiles(d, n=100)[98])
                ztai_p99.append(statistics.quantiles(z, n=100)[98])
            results[tool] = {
                "direct_p50_ms": statistics.median(direct_p50) * 1000,
                "ztai_p50_ms": statistics.median(ztai_p50) * 1000,
                "direct_p99_ms": statistics.median(direct_p99) * 1000,
                "ztai_p99_ms": statistics.median(ztai_p99) * 1000,
                "overhead_p50_ms": (statistics.median(ztai_p50)
                                    - statistics.median(direct_p50)) * 1000,
                "ztai_cpu_ms_per_call": statistics.median(cpu) * 1000,
            }
        return results


def report(results: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = ["# MCP gateway overhead", "",
             f"{meta['when']} · {meta['machine']} · {meta['rounds']} rounds × "
             f"{meta['per_block']} calls per path, interleaved; medians of block medians."
             + (f" ztai overrides: {', '.join(meta['overrides'])}." if meta["overrides"] else "")
             + f" SDK client mode: {meta['client_mode']}.",
             f"Command: `{meta['command']}`", "",
             "| tool | direct p50 | through ztai p50 | overhead p50 | direct p99 | ztai p99 "
             "| ztai CPU per call |", "|---|---|---|---|---|---|---|"]
    for tool, r in results.items():
        lines.append(f"| {tool} | {r['direct_p50_ms']:.2f} ms | {r['ztai_p50_ms']:.2f} ms | "
                     f"**{r['overhead_p50_ms']:.2f} ms** | {r['direct_p99_ms']:.2f} ms | "
                     f"{r['ztai_p99_ms']:.2f} ms | {r['ztai_cpu_ms_per_call']:.2f} ms |")
    lines += ["", "Target (issue #6): overhead ≤ 2 ms p50. ztai runs its default configuration "
              "(shield and DLP on arguments and results, pinning, taint, audit with fsync)"
              + (", with the overrides above." if meta["overrides"] else "."), ""]
    return "\n".join(lines)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM (``timeout``, CI) as an exit, so the ``finally`` below stops both servers."""
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mode", default="auto", choices=("auto", "legacy"),
                        help="the SDK client's protocol negotiation (auto: the newest both "
                             "speak; legacy: the initialize handshake)")
    parser.add_argument("--set", action="append", default=[], metavar="ZTAI_X__Y=V",
                        help="an environment override for ztai (e.g. ZTAI_SHIELD__ENABLED=false)"
                             "; results then go to mcp-variant.md/json")
    args = parser.parse_args()
    rounds, per_block = (3, 50) if args.quick else (9, 100)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        up_port, z_port = free_port(), free_port()
        upstream = subprocess.Popen([str(PYTHON), str(HERE / "upstream.py"), str(up_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ztai = None
        try:
            wait_port(up_port, upstream)
            direct_url = f"http://127.0.0.1:{up_port}/mcp"
            config, key = setup_ztai(work, direct_url, z_port)
            env = {k: v for k, v in os.environ.items() if not k.startswith("ZTAI_")}
            env.update(item.split("=", 1) for item in args.set)
            log = (work / "ztai.log").open("wb")
            ztai = subprocess.Popen([str(ZTAI), "serve", "--config", str(config)],
                                    stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=config.parent)
            wait_port(z_port, ztai)
            results = asyncio.run(measure(direct_url, f"http://127.0.0.1:{z_port}/mcp/bench",
                                          key, ztai.pid, rounds, per_block, args.mode))
        finally:
            for proc in (ztai, upstream):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=10)
    meta = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "rounds": rounds, "per_block": per_block, "overrides": args.set,
            "command": " ".join([".venv/bin/python bench/mcp/run.py", *sys.argv[1:]]),
            "client_mode": args.mode}
    RESULTS.mkdir(exist_ok=True)
    name = "mcp-variant" if args.set or args.mode != "auto" else "mcp"
    (RESULTS / f"{name}.json").write_text(json.dumps({"meta": meta, "results": results},
                                                     indent=2))
    text = report(results, meta)
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())

"""Gateway overhead benchmark: ztai vs calling the upstream directly vs the LiteLLM proxy.

Everything runs on 127.0.0.1. The mock upstream and the load generator (wrk) are pinned to the
client core, each proxy under test to the proxy core (``taskset``). Runs are interleaved
(direct, ztai, litellm, direct, ztai, litellm, ...) for every cell of the matrix
(mode x concurrency) and repeated; figures are medians over the repetitions.

Run it with ztai's interpreter (it reads ztai's YAML config with PyYAML):

    .venv/bin/python bench/gateway_overhead/run.py --smoke      # < 1 minute
    .venv/bin/python bench/gateway_overhead/run.py              # full matrix, ~10 minutes

See README.md beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
RAW = RESULTS / "raw"
ZTAI_BIN = REPO / ".venv" / "bin" / "ztai"
ZTAI_PYTHON = REPO / ".venv" / "bin" / "python"
LITELLM_VENV = BENCH / ".venv-litellm"
LITELLM_BIN = LITELLM_VENV / "bin" / "litellm"
MODEL = "bench-model"
# ztai: auth + Cedar + audit (the gateway core); ztai-dlp: the same plus data protection
# (classification of every request and answer: secrets, structured PII; the DLP rules);
# ztai-full: ztai-dlp plus the prompt shield (every request, and answers for exfiltration) —
# ztai's default configuration
TARGETS = ("direct", "ztai", "ztai-dlp", "ztai-full", "litellm")
ZTAI_VARIANTS = ("ztai", "ztai-dlp", "ztai-full")
MODES = ("plain", "stream")
BODY_BYTES = 1024
STARTUP_TIMEOUT_S = 120.0
HOST = "127.0.0.1"


# ---------------------------------------------------------------------------- small helpers


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def chat_body(stream: bool, size: int = BODY_BYTES) -> bytes:
    """A chat request body of exactly ``size`` bytes (1 KB by default)."""
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": ""},
        ],
        "max_tokens": 64,
        "temperature": 0,
        "stream": stream,
    }
    empty = len(json.dumps(body, separators=(",", ":")).encode())
    filler = "Please summarise this paragraph about zero trust for AI gateways. "
    need = size - empty
    if need < 0:
        raise ValueError(f"body skeleton is already {empty} bytes")
    body["messages"][1]["content"] = (filler * (need // len(filler) + 1))[:need]
    data = json.dumps(body, separators=(",", ":")).encode()
    if len(data) != size:
        raise AssertionError(f"body is {len(data)} bytes, wanted {size}")
    return data


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    token: str | None = None,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def proc_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_memory_kib(pid: int) -> dict[str, int]:
    """Summed VmRSS and VmHWM (peak RSS) of a process tree, in KiB."""
    rss = hwm = 0
    for p in proc_tree(pid):
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm += int(line.split()[1])
    return {"rss_kib": rss, "peak_rss_kib": hwm}


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by a process tree."""
    total = 0
    for p in proc_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def core_times(core: int | None) -> tuple[float, float]:
    """(busy, total) seconds of one core (or of all cores when ``core`` is None) from /proc/stat."""
    label = "cpu" if core is None else f"cpu{core}"
    for line in Path("/proc/stat").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == label:
            vals = [int(v) for v in parts[1:]]
            idle = vals[3] + vals[4]  # idle + iowait
            total = sum(vals[:8])  # up to steal; guest time is already in user
            return (total - idle) / _TICK, total / _TICK
    return 0.0, 0.0


def pin(core: int | None) -> list[str]:
    return ["taskset", "-c", str(core)] if core is not None else []


# ---------------------------------------------------------------------------- processes


@dataclass
class Proc:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self.popen = subprocess.Popen(
            self.argv,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        logf.close()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.popen = None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class Target:
    name: str
    port: int
    token: str | None
    health_path: str
    make_proc: Any = None  # () -> Proc, None for "direct"
    proc: Proc | None = None
    startups: list[dict[str, float]] = field(default_factory=list)

    def start_and_wait(self) -> dict[str, float]:
        """Start the proxy; time until health answers 200 and until a first completion works."""
        assert self.make_proc is not None
        self.proc = self.make_proc()
        self.proc.start()
        t0 = self.proc.started_at
        deadline = t0 + STARTUP_TIMEOUT_S
        health_s = None
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.proc.tail()}")
            try:
                status, _ = http_request(self.port, "GET", self.health_path, timeout=1.0)
            except OSError:
                status = 0
            if status == 200:
                health_s = time.monotonic() - t0
                break
            time.sleep(0.01)
        if health_s is None:
            raise RuntimeError(
                f"{self.name} not healthy in {STARTUP_TIMEOUT_S}s:\n{self.proc.tail()}"
            )
        status, body = http_request(
            self.port, "POST", "/v1/chat/completions", chat_body(False), self.token, timeout=30
        )
        first_s = time.monotonic() - t0
        if status != 200:
            raise RuntimeError(
                f"{self.name}: first completion answered {status}: {body[:500]!r}\n"
                f"{self.proc.tail()}"
            )
        rec = {"health_s": round(health_s, 4), "first_completion_s": round(first_s, 4)}
        self.startups.append(rec)
        return rec


# ---------------------------------------------------------------------------- targets


def setup_ztai(workdir: Path, mock_port: int, port: int, core: int | None,
               name: str = "ztai", risk_in_serve: bool = True) -> Target:
    """``ztai init`` a fresh directory, add the mock upstream and model, create a service key;
    data protection on for ``ztai-dlp`` and ``ztai-full``, the prompt shield for ``ztai-full``."""
    import yaml  # ztai's venv has PyYAML

    if not ZTAI_BIN.exists():
        raise RuntimeError(f"{ZTAI_BIN} not found: is ztai installed in .venv?")
    home = workdir / f"{name}-home"
    shutil.rmtree(home, ignore_errors=True)
    subprocess.run([str(ZTAI_BIN), "init", str(home)], check=True, capture_output=True, timeout=120)
    cfg_path = home / "ztai.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg.setdefault("server", {}).update({"host": HOST, "port": port})
    cfg.setdefault("protection", {})["enabled"] = name != "ztai"
    cfg.setdefault("shield", {})["enabled"] = name == "ztai-full"
    if not risk_in_serve:  # the risk monitor runs as its own service, not in the gateway
        cfg.setdefault("risk", {})["in_serve"] = False
    upstreams = [u for u in cfg.get("upstreams") or [] if u.get("name") != "mock"]
    upstreams.append(
        {
            "name": "mock",
            "kind": "openai",
            "base_url": f"http://{HOST}:{mock_port}/v1",
            "timeout_s": 30,
        }
    )
    cfg["upstreams"] = upstreams
    models = [m for m in cfg.get("models") or [] if m.get("name") != MODEL]
    models.append({"name": MODEL, "upstream": "mock", "upstream_model": MODEL})
    cfg["models"] = models
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = subprocess.run(
        [
            str(ZTAI_BIN),
            "keys",
            "create",
            "--config",
            str(cfg_path),
            "--principal",
            "bench",
            "--kind",
            "service",
            "--group",
            "staff",
            "--json",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    token = json.loads(out.stdout)["key"]

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZTAI_")}

    def make() -> Proc:
        return Proc(
            name,
            [
                *pin(core),
                str(ZTAI_BIN),
                "serve",
                "--config",
                str(cfg_path),
                "--host",
                HOST,
                "--port",
                str(port),
            ],
            workdir / f"{name}.log",
            env=env,
            cwd=home,
        )

    return Target(name, port, token, "/healthz", make)


def setup_litellm(workdir: Path, mock_port: int, port: int, core: int | None) -> Target:
    if not LITELLM_BIN.exists():
        raise RuntimeError(f"{LITELLM_BIN} not found: run bench/gateway_overhead/setup.sh")
    master_key = "sk-bench-" + os.urandom(12).hex()
    cfg = (HERE / "litellm_config.yaml").read_text()
    cfg = cfg.replace("${MOCK_PORT}", str(mock_port)).replace("${MASTER_KEY}", master_key)
    cfg_path = workdir / "litellm_config.yaml"
    cfg_path.write_text(cfg)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_"))}
    env.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no network fetch of the cost map at start
            "LITELLM_LOG": "ERROR",
            "LITELLM_MODE": "PRODUCTION",
            "VIRTUAL_ENV": str(LITELLM_VENV),
            "PATH": f"{LITELLM_VENV / 'bin'}:{env.get('PATH', '')}",
        }
    )
    env.pop("DATABASE_URL", None)

    def make() -> Proc:
        return Proc(
            "litellm",
            [
                *pin(core),
                str(LITELLM_BIN),
                "--config",
                str(cfg_path),
                "--host",
                HOST,
                "--port",
                str(port),
                "--num_workers",
                "1",
                "--log_config",
                str(HERE / "litellm_log_config.json"),
            ],
            workdir / "litellm.log",
            env=env,
            cwd=workdir,
        )

    return Target("litellm", port, master_key, "/health/liveliness", make)


# ---------------------------------------------------------------------------- load


# where each wrk run's message counter starts: no run resends another's messages (26**8
# counter values; a run sends far fewer than 10**7 requests)
_OFFSETS = itertools.count(0, 10**7)


def run_wrk(
    target: Target,
    body_file: Path,
    concurrency: int,
    duration_s: int,
    core: int | None,
    proxy_core: int | None,
) -> dict[str, Any]:
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file), BENCH_AUTH=target.token or "",
               BENCH_OFFSET=str(next(_OFFSETS)))
    argv = [
        *pin(core),
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{duration_s}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "post.lua"),
        f"http://{HOST}:{target.port}/v1/chat/completions",
    ]
    pid = target.proc.pid if target.proc else None
    cpu0 = tree_cpu_s(pid) if pid else 0.0
    busy0, total0 = core_times(proxy_core)
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, env=env, timeout=duration_s + 60, check=False)
    wall = time.monotonic() - t0
    cpu = (tree_cpu_s(pid) - cpu0) if pid else None
    busy1, total1 = core_times(proxy_core)
    line = next(
        (ln for ln in out.stdout.decode().splitlines() if ln.startswith("BENCH_JSON ")), None
    )
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.decode()[-2000:]}")
    res: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    secs = res["duration_us"] / 1e6
    res["rps"] = res["requests"] / secs if secs else 0.0
    res["error_count"] = sum(res["errors"].values())
    # how busy the proxy core was; in direct runs this is load from other processes
    if total1 > total0:
        res["proxy_core_busy"] = round((busy1 - busy0) / (total1 - total0), 3)
    if cpu is not None:
        res["proxy_cpu_s"] = round(cpu, 3)
        res["proxy_cpu_util"] = round(cpu / wall, 3)
        res["proxy_cpu_us_per_req"] = (
            round(cpu / res["requests"] * 1e6, 1) if res["requests"] else None
        )
    return res


def settle(target: Target, limit_s: float = 15.0) -> float:
    """Wait until the proxy has drained what wrk left in flight (its CPU use drops to idle), so
    that its backlog does not slow the next run on the same core. Returns the seconds waited."""
    if target.proc is None:
        return 0.0
    t0 = time.monotonic()
    last = tree_cpu_s(target.proc.pid)
    while time.monotonic() - t0 < limit_s:
        time.sleep(0.1)
        now = tree_cpu_s(target.proc.pid)
        if now - last < 0.02:  # under 20 % of a core over the last 100 ms
            break
        last = now
    return time.monotonic() - t0


def wait_quiet(cores: Sequence[int | None], max_wait_s: float, threshold: float = 0.1) -> float:
    """Wait (at most ``max_wait_s``) until each of ``cores`` is under ``threshold`` busy over a
    300 ms window, so that other work on the machine (tests, builds) does not land in a run.
    Returns the seconds waited; a negative value means it gave up."""
    t0 = time.monotonic()
    while True:
        before = [core_times(c) for c in cores]
        time.sleep(0.3)
        after = [core_times(c) for c in cores]
        busy = [
            (b1 - b0) / (t1 - t0_) if t1 > t0_ else 0.0
            for (b0, t0_), (b1, t1) in zip(before, after, strict=True)
        ]
        if max(busy) < threshold:
            return time.monotonic() - t0
        if time.monotonic() - t0 > max_wait_s:
            return -(time.monotonic() - t0)


def foreign_load(res: dict[str, Any]) -> float:
    """Share of the proxy core used by something other than the proxy during a run (includes
    the kernel's share of loopback networking, which is charged to no process)."""
    busy = res.get("proxy_core_busy")
    if busy is None:
        return 0.0
    return float(busy) - float(res.get("proxy_cpu_util") or 0.0)


# ---------------------------------------------------------------------------- summary


def median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summarise(runs: list[dict[str, Any]], targets: Sequence[str]) -> dict[str, Any]:
    cells: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = {}
    for r in runs:
        cells.setdefault((r["mode"], r["concurrency"]), {}).setdefault(r["target"], []).append(r)
    out: list[dict[str, Any]] = []
    for (mode, conc), by_target in sorted(cells.items()):
        direct_by_rep = {r["rep"]: r for r in by_target.get("direct", [])}
        for name in targets:
            rs = by_target.get(name, [])
            if not rs:
                continue
            row: dict[str, Any] = {
                "mode": mode,
                "concurrency": conc,
                "target": name,
                "reps": len(rs),
                "p50_ms": median([r["latency_us"]["p50"] / 1e3 for r in rs]),
                "p99_ms": median([r["latency_us"]["p99"] / 1e3 for r in rs]),
                "rps": median([r["rps"] for r in rs]),
                "errors": sum(r["error_count"] for r in rs),
                "requests": sum(r["requests"] for r in rs),
            }
            if name != "direct" and direct_by_rep:
                # paired by repetition: the direct run just before it in the interleaving
                pairs = [(r, direct_by_rep[r["rep"]]) for r in rs if r["rep"] in direct_by_rep]
                row["added_p50_ms"] = median(
                    [(r["latency_us"]["p50"] - d["latency_us"]["p50"]) / 1e3 for r, d in pairs]
                )
                row["added_p99_ms"] = median(
                    [(r["latency_us"]["p99"] - d["latency_us"]["p99"]) / 1e3 for r, d in pairs]
                )
            cpu = [r["proxy_cpu_us_per_req"] for r in rs if r.get("proxy_cpu_us_per_req")]
            util = [r["proxy_cpu_util"] for r in rs if r.get("proxy_cpu_util") is not None]
            if cpu:
                row["proxy_cpu_us_per_req"] = median(cpu)
                row["proxy_cpu_util"] = median(util)
            busy = [r["proxy_core_busy"] for r in rs if r.get("proxy_core_busy") is not None]
            if busy:
                row["proxy_core_busy"] = median(busy)
            out.append(row)
    foreign = [
        r["proxy_core_busy"]
        for r in runs
        if r["target"] == "direct" and r.get("proxy_core_busy") is not None
    ]
    return {
        "runs_noisy_after_retries": sum(1 for r in runs if r.get("noisy")),
        "runs_retried": sum(1 for r in runs if r.get("attempt")),
        "foreign_load_median": median([r.get("foreign_load", 0.0) for r in runs]),
        "cells": out,
        # proxy core busy while no proxy was loaded: other processes on the machine
        "proxy_core_busy_in_direct_runs": {
            "median": median(foreign),
            "max": max(foreign) if foreign else None,
        },
    }


def verdicts(summary: dict[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    rows = summary["cells"]

    def get(name: str, mode: str, conc: int) -> dict[str, Any] | None:
        return next(
            (
                r
                for r in rows
                if r["target"] == name and r["mode"] == mode and r["concurrency"] == conc
            ),
            None,
        )

    res: dict[str, Any] = {"throughput_ratio": {}, "added_p50_c1_ms": {},
                           "variants_vs_litellm": {}}
    for mode in MODES:
        concs = sorted({r["concurrency"] for r in rows if r["mode"] == mode})
        if not concs:
            continue
        if "litellm" in targets:
            lt_peak = max((get("litellm", mode, c) or {}).get("rps") or 0 for c in concs)
            for variant in (v for v in ZTAI_VARIANTS if v in targets):
                peak = max((get(variant, mode, c) or {}).get("rps") or 0 for c in concs)
                c1 = get(variant, mode, 1) if 1 in concs else None
                res["variants_vs_litellm"].setdefault(variant, {})[mode] = {
                    "peak_rps": round(peak, 1),
                    "ratio": round(peak / lt_peak, 2) if lt_peak else None,
                    "added_p50_c1_ms": round(c1["added_p50_ms"], 3)
                    if c1 and c1.get("added_p50_ms") is not None else None,
                    "met_10x": bool(lt_peak and peak / lt_peak >= 10),
                }
        if "ztai" in targets and "litellm" in targets:
            # throughput per core = best median rps over the concurrencies tried (single core)
            z = max((get("ztai", mode, c) or {}).get("rps") or 0 for c in concs)
            lt = max((get("litellm", mode, c) or {}).get("rps") or 0 for c in concs)
            per_c = {}
            for c in concs:
                zr, lr = get("ztai", mode, c), get("litellm", mode, c)
                if zr and lr and lr["rps"]:
                    per_c[str(c)] = round(zr["rps"] / lr["rps"], 2)
            ratio = z / lt if lt else None
            res["throughput_ratio"][mode] = {
                "ztai_peak_rps": round(z, 1),
                "litellm_peak_rps": round(lt, 1),
                "ratio": round(ratio, 2) if ratio else None,
                "by_concurrency": per_c,
                "target": ">= 10",
                "met": bool(ratio and ratio >= 10),
            }
        if "ztai" in targets and 1 in concs:
            zr = get("ztai", mode, 1)
            added = zr.get("added_p50_ms") if zr else None
            res["added_p50_c1_ms"][mode] = {
                "ztai": round(added, 3) if added is not None else None,
                "litellm": (
                    lambda r: (
                        round(r["added_p50_ms"], 3)
                        if r and r.get("added_p50_ms") is not None
                        else None
                    )
                )(get("litellm", mode, 1)),
                "target": "<= 1.0 ms",
                "met": added is not None and added <= 1.0,
            }
    return res


def fmt(x: Any, nd: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = [
        "# Gateway overhead benchmark",
        "",
        f"{meta['date']} · {meta['cpu']} · {meta['cores']} cores · proxy on core "
        f"{meta['proxy_core']}, mock + wrk on core {meta['client_core']} · "
        f"{meta['reps']} reps × {meta['duration_s']} s per run, interleaved · "
        f"{meta['body_bytes']} B chat body · litellm {meta['versions'].get('litellm')} · "
        f"ztai {meta['versions'].get('ztai')} · ztai's risk monitor "
        f"{meta.get('risk_monitor', 'in the gateway')}",
        "",
        "Medians over repetitions. *added* = proxy minus direct, paired per repetition. "
        "CPU µs/req = proxy process CPU time per request.",
        "",
    ]
    for mode in MODES:
        rows = [r for r in result["summary"]["cells"] if r["mode"] == mode]
        if not rows:
            continue
        lines += [
            f"## {'streamed (SSE)' if mode == 'stream' else 'not streamed'}",
            "",
            "| conc | target | p50 ms | p99 ms | added p50 ms | added p99 ms | req/s | "
            "CPU µs/req | errors |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['concurrency']} | {r['target']} | {fmt(r['p50_ms'], 3)} | "
                f"{fmt(r['p99_ms'], 3)} | {fmt(r.get('added_p50_ms'), 3)} | "
                f"{fmt(r.get('added_p99_ms'), 3)} | {fmt(r['rps'], 1)} | "
                f"{fmt(r.get('proxy_cpu_us_per_req'), 0)} | {r['errors']} |"
            )
        lines.append("")
    procs = result.get("processes", {})
    if procs:
        lines += [
            "## Start-up and memory",
            "",
            "| proxy | start → health 200 (s, median) | start → first completion (s) | "
            "RSS after run (MiB) | peak RSS (MiB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, p in procs.items():
            lines.append(
                f"| {name} | {fmt(p.get('startup_health_s_median'), 3)} | "
                f"{fmt(p.get('startup_first_completion_s_median'), 3)} | "
                f"{fmt(p.get('rss_mib'), 1)} | {fmt(p.get('peak_rss_mib'), 1)} |"
            )
        lines.append("")
    v = result.get("verdicts", {})
    if v.get("throughput_ratio") or v.get("added_p50_c1_ms"):
        lines += ["## Targets", "", "| target | mode | measured | met |", "|---|---|---|---|"]
        for mode, t in v.get("throughput_ratio", {}).items():
            lines.append(
                f"| ztai throughput ≥ 10× LiteLLM per core | {mode} | "
                f"{fmt(t['ratio'])}× ({fmt(t['ztai_peak_rps'], 0)} vs "
                f"{fmt(t['litellm_peak_rps'], 0)} req/s peak) | {'yes' if t['met'] else 'NO'} |"
            )
        for mode, t in v.get("added_p50_c1_ms", {}).items():
            lines.append(
                f"| ztai added p50 ≤ 1 ms at concurrency 1 | {mode} | {fmt(t['ztai'], 3)} ms "
                f"(LiteLLM {fmt(t['litellm'], 3)} ms) | {'yes' if t['met'] else 'NO'} |"
            )
        for variant, modes in v.get("variants_vs_litellm", {}).items():
            if variant == "ztai":
                continue
            for mode, t in modes.items():
                lines.append(
                    f"| {variant} throughput ≥ 10× LiteLLM per core | {mode} | "
                    f"{fmt(t['ratio'])}× ({fmt(t['peak_rps'], 0)} req/s peak; added p50 "
                    f"{fmt(t['added_p50_c1_ms'], 3)} ms) | {'yes' if t['met_10x'] else 'NO'} |"
                )
        lines.append("")
    chk = result.get("checks", {})
    if chk:
        lines.append(f"Load-generator check: {chk.get('loadgen_note')}")
        lines.append("")
    noise = result["summary"].get("proxy_core_busy_in_direct_runs") or {}
    if noise.get("median") is not None:
        lines.append(
            f"Noise check: the proxy core was {100 * noise['median']:.0f} % busy (median, max "
            f"{100 * noise['max']:.0f} %) during direct runs, when no proxy had work: load from "
            "other processes on the machine."
        )
        lines.append(
            f"Runs retried because other work took the proxy core: "
            f"{result['summary']['runs_retried']}; still noisy after retries: "
            f"{result['summary']['runs_noisy_after_retries']}."
        )
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main


def versions() -> dict[str, str | None]:
    def cmd(argv: list[str]) -> str | None:
        try:
            out = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        text = (out.stdout or out.stderr).decode().strip()
        return text.splitlines()[0] if text else None

    q = "import importlib.metadata as m; print(m.version('{}'))"
    return {
        "python": platform.python_version(),
        "ztai": cmd([str(ZTAI_PYTHON), "-c", q.format("ztai")]),
        "litellm": cmd([str(LITELLM_VENV / "bin" / "python"), "-c", q.format("litellm")])
        if LITELLM_VENV.exists()
        else None,
        "wrk": cmd(["wrk", "--version"]),
        "ztai_git": cmd(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown cpu"


@contextlib.contextmanager
def running(procs: list[Proc]) -> Iterator[None]:
    try:
        yield
    finally:
        for p in reversed(procs):  # proxies first, the mock last
            p.stop()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="ztai vs direct vs LiteLLM gateway overhead")
    ap.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma list of direct,ztai,litellm (direct is always run)",
    )
    ap.add_argument("--concurrency", default="1,16,64")
    ap.add_argument("--modes", default=",".join(MODES), help="plain,stream")
    ap.add_argument("--duration", type=int, default=5, help="seconds per run (wrk takes whole s)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the whole matrix")
    ap.add_argument(
        "--warmup", type=int, default=2, help="seconds of warm-up per target and mode (0: none)"
    )
    ap.add_argument("--startup-reps", type=int, default=3, help="start-up time measurements")
    ap.add_argument(
        "--risk-separate",
        action="store_true",
        help="ztai's risk monitor off the gateway process (risk.in_serve: false; deploy "
        "`ztai risk run` as its own service); default: in the gateway, as `ztai init` sets it",
    )
    ap.add_argument("--proxy-core", type=int, default=1)
    ap.add_argument("--client-core", type=int, default=0)
    ap.add_argument("--no-pin", action="store_true", help="do not use taskset")
    ap.add_argument(
        "--max-wait",
        type=float,
        default=60.0,
        help="max seconds to wait for both cores to go quiet before each run",
    )
    ap.add_argument(
        "--noise-limit",
        type=float,
        default=0.25,
        help="rerun a run when this share of the proxy core went to other work",
    )
    ap.add_argument("--retries", type=int, default=2, help="reruns of a noisy run")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results JSON (default bench/results/gateway_overhead.json; "
        "bench/results/raw/gateway_overhead.smoke.json with --smoke)",
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="quick check: 1 rep x 1 s, concurrency 1,16, 1 start-up (< 1 minute)",
    )
    args = ap.parse_args(argv)
    if args.smoke:
        args.duration, args.reps, args.warmup, args.startup_reps = 1, 1, 1, 1
        if args.concurrency == "1,16,64":
            args.concurrency = "1,16"
    args.targets = ["direct", *[t for t in args.targets.split(",") if t and t != "direct"]]
    bad = set(args.targets) - set(TARGETS)
    if bad:
        ap.error(f"unknown targets {sorted(bad)}")
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.modes = [m for m in args.modes.split(",") if m]
    if set(args.modes) - set(MODES):
        ap.error("modes are plain,stream")
    if not (0 < args.duration <= 60 and 0 < args.reps <= 20 and 0 < args.startup_reps <= 10):
        ap.error("duration in (0, 60], reps in 1..20, startup-reps in 1..10")
    if args.out is None:
        args.out = (
            RAW / "gateway_overhead.smoke.json" if args.smoke else RESULTS / "gateway_overhead.json"
        )
    return args


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM (``timeout``, CI) as an exit, so the ``running`` blocks stop every proxy."""
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None and not (tool == "taskset" and args.no_pin):
            sys.exit(f"{tool} not found (apt-get install -y wrk util-linux)")
    cores = os.cpu_count() or 1
    pinning = not args.no_pin and cores >= 2
    if not args.no_pin and not pinning:
        log("fewer than 2 cores: running without pinning")
    proxy_core = args.proxy_core if pinning else None
    client_core = args.client_core if pinning else None
    if client_core is not None:
        os.sched_setaffinity(0, {client_core})

    RAW.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="gateway_overhead-", dir=RAW))
    bodies = {}
    for mode in MODES:
        bodies[mode] = workdir / f"body-{mode}.json"
        bodies[mode].write_bytes(chat_body(mode == "stream"))

    mock_port = free_port()
    mock = Proc(
        "mock",
        [
            *pin(client_core),
            str(ZTAI_PYTHON),
            str(HERE / "mock_upstream.py"),
            "--port",
            str(mock_port),
        ],
        workdir / "mock.log",
    )
    direct = Target("direct", mock_port, None, "/healthz")
    targets: dict[str, Target] = {"direct": direct}
    started = time.monotonic()
    runs: list[dict[str, Any]] = []
    processes: dict[str, dict[str, Any]] = {}
    procs: list[Proc] = [mock]
    with running(procs):
        mock.start()
        for _ in range(200):
            with contextlib.suppress(OSError):
                if http_request(mock_port, "GET", "/healthz", timeout=1)[0] == 200:
                    break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"mock did not start:\n{mock.tail()}")
        log(f"mock upstream on :{mock_port}; work dir {workdir}")

        for variant in ZTAI_VARIANTS:
            if variant in args.targets:
                targets[variant] = setup_ztai(workdir, mock_port, free_port(), proxy_core,
                                              variant, risk_in_serve=not args.risk_separate)
        if "litellm" in args.targets:
            targets["litellm"] = setup_litellm(workdir, mock_port, free_port(), proxy_core)

        # start-up time: start each proxy startup_reps times; the last start serves the load
        for name, t in targets.items():
            if t.make_proc is None:
                continue
            for i in range(args.startup_reps):
                wait_quiet([proxy_core, client_core], args.max_wait)
                rec = t.start_and_wait()
                assert t.proc is not None
                procs.append(t.proc)
                log(
                    f"{name} start-up {i + 1}/{args.startup_reps}: health {rec['health_s']:.3f}s,"
                    f" first completion {rec['first_completion_s']:.3f}s"
                )
                if i + 1 < args.startup_reps:
                    t.proc.stop()
                    time.sleep(0.5)

        # check that every target answers both modes before loading it
        for name, t in targets.items():
            for mode in args.modes:
                status, body = http_request(
                    t.port,
                    "POST",
                    "/v1/chat/completions",
                    bodies[mode].read_bytes(),
                    t.token,
                    timeout=30,
                )
                if status != 200 or (mode == "stream" and b"[DONE]" not in body):
                    raise RuntimeError(f"{name} {mode}: {status} {body[:300]!r}")

        if args.warmup > 0:
            for t in targets.values():
                for mode in args.modes:
                    run_wrk(
                        t, bodies[mode], max(args.concurrency), args.warmup, client_core, proxy_core
                    )
                    settle(t)
            log("warm-up done")

        cells = [(m, c) for m in args.modes for c in args.concurrency]
        total = args.reps * len(cells) * len(targets)
        n = 0
        for rep in range(args.reps):
            for mode, conc in cells:
                for name, t in targets.items():  # interleaved: direct, ztai, litellm, ...
                    n += 1
                    if t.proc is not None and not t.proc.alive():
                        raise RuntimeError(f"{name} died:\n{t.proc.tail()}")
                    for attempt in range(args.retries + 1):
                        waited = wait_quiet([proxy_core, client_core], args.max_wait)
                        res = run_wrk(t, bodies[mode], conc, args.duration, client_core, proxy_core)
                        res["settle_s"] = round(settle(t), 2)
                        res["quiet_wait_s"] = round(waited, 2)
                        res["attempt"] = attempt
                        res["foreign_load"] = round(foreign_load(res), 3)
                        res["noisy"] = res["foreign_load"] > args.noise_limit
                        if not res["noisy"]:
                            break
                        log(
                            f"{name} {mode} c={conc}: {res['foreign_load']:.0%} of the proxy "
                            "core went to other work; run again"
                        )
                    res.update({"rep": rep, "mode": mode, "concurrency": conc, "target": name})
                    runs.append(res)
                    log(
                        f"[{n}/{total}] rep {rep} {mode:6} c={conc:<3} {name:8} "
                        f"p50 {res['latency_us']['p50'] / 1e3:8.3f} ms  "
                        f"p99 {res['latency_us']['p99'] / 1e3:8.3f} ms  "
                        f"{res['rps']:9.1f} req/s  errors {res['error_count']}"
                        f"  settle {res['settle_s']:.1f}s  foreign {res['foreign_load']:.0%}"
                    )

        for name, t in targets.items():
            if t.proc is None:
                continue
            mem = tree_memory_kib(t.proc.pid)
            processes[name] = {
                "rss_mib": round(mem["rss_kib"] / 1024, 1),
                "peak_rss_mib": round(mem["peak_rss_kib"] / 1024, 1),
                "startups": t.startups,
                "startup_health_s_median": median([s["health_s"] for s in t.startups]),
                "startup_first_completion_s_median": median(
                    [s["first_completion_s"] for s in t.startups]
                ),
            }

    summary = summarise(runs, list(targets))
    proxy_rps = [r["rps"] for r in summary["cells"] if r["target"] != "direct"]
    direct_rps = [
        r["rps"]
        for r in summary["cells"]
        if r["target"] == "direct" and r["concurrency"] == max(args.concurrency)
    ]
    ratio = min(direct_rps) / max(proxy_rps) if proxy_rps and direct_rps else None
    result = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cpu": cpu_model(),
            "cores": cores,
            "kernel": platform.release(),
            "proxy_core": proxy_core,
            "client_core": client_core,
            "duration_s": args.duration,
            "reps": args.reps,
            "warmup_s": args.warmup,
            "startup_reps": args.startup_reps,
            "concurrency": args.concurrency,
            "modes": args.modes,
            "targets": list(targets),
            "body_bytes": BODY_BYTES,
            "versions": versions(),
            "elapsed_s": round(time.monotonic() - started, 1),
            "load_generator": "wrk -t1 (closed loop, keep-alive), bench/gateway_overhead/post.lua",
            "risk_monitor": "separate service" if args.risk_separate else "in the gateway",
        },
        "summary": summary,
        "verdicts": verdicts(summary, list(targets)),
        "processes": processes,
        "checks": {
            "direct_over_best_proxy_rps": round(ratio, 1) if ratio else None,
            "loadgen_note": (
                f"direct (wrk → mock, both on the client core) reaches "
                f"{min(direct_rps):.0f} req/s at c={max(args.concurrency)}, "
                f"{ratio:.1f}× the best proxy cell: wrk and the mock are "
                f"{'not the bottleneck' if ratio >= 3 else 'POSSIBLY THE BOTTLENECK'}"
            )
            if ratio
            else "no proxy target run",
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    md = markdown(result)
    args.out.with_suffix(".md").write_text(md + "\n")
    print(md)
    log(f"wrote {args.out} and {args.out.with_suffix('.md')} in {time.monotonic() - started:.0f}s")
    shutil.rmtree(workdir / "ztai-home", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A real ``ztai serve`` process on 127.0.0.1, configured by ``ztai init``, with demo keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ztai.cli.serve import init_dir
from ztai.config.settings import Settings, load_settings
from ztai.core.clock import FixedClock, SystemClock
from ztai.core.model import PrincipalKind
from ztai.identity.apikey import KeySpec, issue_key
from ztai.storage.sqlite import SqliteKeyStore

START_TIMEOUT_S = 30.0


@dataclass
class Server:
    base_url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    keys: dict[str, str]
    key_ids: dict[str, str]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_keys(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    store, clock = SqliteKeyStore(settings.path(settings.storage.sqlite_path)), SystemClock()
    specs = {
        "alice": KeySpec("alice", PrincipalKind.USER, frozenset({"staff"})),
        "bob": KeySpec("bob", PrincipalKind.USER, frozenset({"staff", "contractors"})),
        "nogrant": KeySpec("ci-bot", PrincipalKind.SERVICE),
        "revoked": KeySpec("carol", PrincipalKind.USER, frozenset({"staff"})),
    }
    keys, ids = {}, {}
    for name, spec in specs.items():
        key, record = issue_key(store, spec, clock)
        keys[name], ids[name] = key.reveal(), record.key_id
    store.revoke_key(ids["revoked"], clock.now())
    expired, record = issue_key(store, KeySpec("dave", PrincipalKind.USER, frozenset({"staff"}),
                                               ttl_s=60), FixedClock(clock.now() - 3600))
    keys["expired"], ids["expired"] = expired.reveal(), record.key_id
    store.close()
    return keys, ids


def start_server(directory: Path, env: dict[str, str] | None = None) -> Server:
    config = init_dir(directory)
    settings = load_settings(config)
    keys, ids = make_keys(settings)
    port = free_port()
    log = directory / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ztai", "serve", "--config", str(config), "--host",
             "127.0.0.1", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
    server = Server(f"http://127.0.0.1:{port}", settings, process, keys, ids)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("ztai serve exited: " + log.read_text()[-2000:])
        try:
            if httpx.get(server.base_url + "/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError("ztai serve did not become ready in time: " + log.read_text()[-2000:])

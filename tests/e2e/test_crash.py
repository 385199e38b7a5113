"""kill -9 of the server under load: every request that got an answer has its audit event on
disk, and the hash chain still verifies."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import orjson

from tests.e2e.server import Server, start_server
from ztai.audit.reader import verify_store
from ztai.audit.signing import CheckpointSigner
from ztai.storage.sqlite import SqliteAuditStore

WORKERS = 16
MAX_REQUESTS_PER_WORKER = 400
KILL_AFTER_S = 1.5


async def _worker(server: Server, n: int, answered: list[str]) -> None:
    headers = {"authorization": f"Bearer {server.keys['alice']}"}
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": f"worker {n}"}]}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        for i in range(MAX_REQUESTS_PER_WORKER):
            stream = (n + i) % 3 == 0
            try:
                response = await client.post("/v1/chat/completions", headers=headers,
                                              json={**body, "stream": stream})
            except httpx.TransportError:
                return  # the server is gone
            complete = "data: [DONE]" in response.text if stream else True
            if response.status_code == 200 and complete:
                answered.append(response.headers["x-ztai-exchange-id"])


async def _load_then_kill(server: Server, answered: list[str]) -> None:
    workers = [asyncio.create_task(_worker(server, n, answered)) for n in range(WORKERS)]
    await asyncio.sleep(KILL_AFTER_S)
    os.kill(server.process.pid, signal.SIGKILL)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=60)


def test_kill_9_during_load_loses_no_answered_event(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    answered: list[str] = []
    try:
        asyncio.run(_load_then_kill(server, answered))
    finally:
        server.stop(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL
    assert len(answered) > 50, "the load did not get going before the kill"
    settings = server.settings
    store = SqliteAuditStore(settings.path(settings.storage.sqlite_path))
    stored = {orjson.loads(entry.payload)["id"] for entry in store.read()}
    missing = set(answered) - stored
    assert not missing, f"{len(missing)} answered requests have no audit event"
    key = CheckpointSigner.from_pem_file(settings.path(settings.audit.signing_key)).public_key
    report = verify_store(store, key)
    assert report.ok, report.problems
    assert report.count >= len(answered)
    store.close()

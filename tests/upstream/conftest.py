"""Fixtures for upstream tests: the anyio backend and the simulator served by a real uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette

from tests.upstream import fake_server
from ztai.upstream.model import SimulatorOptions
from ztai.upstream.simulator_app import create_simulator_app

START_SECONDS = 10.0
SLOW_SECONDS = 0.8


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def serve(app: Starlette) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread; yield its base URL; stop it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none",
                            loop="asyncio", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise RuntimeError("the simulator server did not start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        sock.close()


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    yield from serve(create_simulator_app(SimulatorOptions(slow_seconds=SLOW_SECONDS)))


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port that is bound but not listening, so connections are refused."""
    with fake_server.refused_url() as url:
        yield url

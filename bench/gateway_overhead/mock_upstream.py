"""A very fast OpenAI-compatible mock upstream for the gateway overhead benchmark.

It speaks just enough HTTP/1.1 (keep-alive, pipelining, Content-Length bodies) over a raw
asyncio protocol to answer:

- ``POST /v1/chat/completions``: a fixed ``chat.completion`` with usage, or, when the body
  has ``"stream": true``, a short SSE stream (chunked transfer encoding) ending in
  ``data: [DONE]``; a usage chunk is added when ``stream_options.include_usage`` is set.
- ``GET /v1/models``: one model.
- ``GET /healthz``: ``ok``.

Responses are built once and written in a single ``transport.write`` so that the mock is
never the bottleneck (it serves tens of thousands of requests per second on one core).
It binds 127.0.0.1 only.

Usage: ``python mock_upstream.py --port 18000``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from typing import Any

try:  # orjson and uvloop come with ztai's venv; the mock works without them.
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover

    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()


MODEL = "bench-model"
CREATED = 1_700_000_000
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024
STREAM_WORDS = ["Hello", " from", " the", " bench", " mock", "."]


def _http_response(status: str, content_type: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\n"
        b"content-type: " + content_type + b"\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: keep-alive\r\n"
        b"\r\n" + body
    )


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _build_completion() -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(STREAM_WORDS)},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 250, "completion_tokens": 6, "total_tokens": 256},
    }
    return _http_response("200 OK", b"application/json", _dumps(body))


def _build_stream(include_usage: bool) -> bytes:
    def event(obj: dict[str, Any]) -> bytes:
        return _chunk(b"data: " + _dumps(obj) + b"\n\n")

    base = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
    }
    parts = [
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: text/event-stream\r\n"
        b"cache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n"
        b"connection: keep-alive\r\n"
        b"\r\n"
    ]
    first = {"role": "assistant", "content": ""}
    parts.append(event({**base, "choices": [{"index": 0, "delta": first, "finish_reason": None}]}))
    for word in STREAM_WORDS:
        delta = {"content": word}
        parts.append(
            event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        )
    parts.append(event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    if include_usage:
        usage = {"prompt_tokens": 250, "completion_tokens": 6, "total_tokens": 256}
        parts.append(event({**base, "choices": [], "usage": usage}))
    parts.append(_chunk(b"data: [DONE]\n\n"))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


COMPLETION = _build_completion()
STREAM = _build_stream(include_usage=False)
STREAM_WITH_USAGE = _build_stream(include_usage=True)
MODELS = _http_response(
    "200 OK",
    b"application/json",
    _dumps(
        {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": CREATED, "owned_by": "bench"}],
        }
    ),
)
HEALTH = _http_response("200 OK", b"text/plain", b"ok")
NOT_FOUND = _http_response("404 Not Found", b"application/json", b'{"error":"not found"}')
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def _chat(body: bytes) -> bytes:
    try:
        payload = _loads(body)
    except ValueError:
        return _http_response("400 Bad Request", b"application/json", b'{"error":"bad json"}')
    if not isinstance(payload, dict) or not payload.get("stream"):
        return COMPLETION
    options = payload.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        return STREAM_WITH_USAGE
    return STREAM


class MockProtocol(asyncio.Protocol):
    """One connection: parse pipelined HTTP/1.1 requests from a buffer, answer each."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out: list[bytes] = []
        close = False
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    out.append(BAD_REQUEST)
                    close = True
                break
            head = bytes(self.buffer[:end]).split(b"\r\n")
            request_line = head[0].split(b" ")
            if len(request_line) != 3:
                out.append(BAD_REQUEST)
                close = True
                break
            method, target = request_line[0], request_line[1]
            length = 0
            chunked = False
            for line in head[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"transfer-encoding":
                    chunked = True
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if chunked or length > MAX_BODY_BYTES:
                out.append(BAD_REQUEST)
                close = True
                break
            start = end + 4
            if len(self.buffer) < start + length:
                break  # wait for the rest of the body
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
            path = target.split(b"?", 1)[0]
            if method == b"POST" and path == b"/v1/chat/completions":
                out.append(_chat(body))
            elif method == b"GET" and path == b"/v1/models":
                out.append(MODELS)
            elif method == b"GET" and path in (b"/healthz", b"/health"):
                out.append(HEALTH)
            else:
                out.append(NOT_FOUND)
            if close:
                break
        if out and self.transport is not None:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])
        if close and self.transport is not None:
            self.transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(MockProtocol, host, port, backlog=1024, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"mock upstream listening on http://{host}:{port} pid={os.getpid()}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18000)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock binds loopback only")
    started = time.monotonic()
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover
            asyncio.run(serve(args.host, args.port))
        else:
            uvloop.run(serve(args.host, args.port))
    finally:
        print(f"mock upstream stopped after {time.monotonic() - started:.1f}s", flush=True)


if __name__ == "__main__":
    main()

"""The simulator's embeddings: one deterministic unit vector per input string (16 dimensions from
its SHA-256), as floats or as base64 float32 (the encoding the OpenAI SDK asks for by default)."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any

from ztai.upstream.simulation import FINGERPRINT, count_tokens, invalid, model_of

DIMENSIONS = 16
Body = Mapping[str, Any]


def embeddings_prompt(body: Body) -> str:
    """All inputs joined; raises ``SimulatedFailure(400)`` unless input is text."""
    return "\n".join(_inputs(body))


def embeddings_list(body: Body) -> dict[str, Any]:
    inputs = _inputs(body)
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise invalid("encoding_format must be 'float' or 'base64'")
    data = [{"object": "embedding", "index": index,
             "embedding": _encoded(vector(text), as_base64=encoding == "base64")}
            for index, text in enumerate(inputs)]
    tokens = count_tokens(*inputs)
    return {"object": "list", "data": data, "model": model_of(body),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "system_fingerprint": FINGERPRINT}


def vector(text: str) -> list[float]:
    """A unit vector that depends only on ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [int.from_bytes(digest[i:i + 2], "big") / 32767.5 - 1.0 for i in range(0, 32, 2)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _inputs(body: Body) -> list[str]:
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    raise invalid("input must be a string or a non-empty list of strings")


def _encoded(values: list[float], *, as_base64: bool) -> list[float] | str:
    if not as_base64:
        return values
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")

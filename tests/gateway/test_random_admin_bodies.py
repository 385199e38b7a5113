"""Random bodies and path segments through every admin endpoint, as an admin: each call is
answered, never with a 5xx, and a refusal is a JSON error the client can read. Bodies are the
endpoint's valid body with fields replaced by values of any type, fields added, or any JSON
at all; path identifiers hold odd characters. Seeded, so a failure repeats; more seeds:
``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/gateway/test_random_admin_bodies.py``."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from tests.deadline import within
from tests.gateway.harness import auth, harness
from tests.gateway.test_admin_api import ADMINISTER, APPROVE

pytestmark = pytest.mark.anyio

CALLS = 250
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2").split(",")]
_TEXTS = ["", "x", "alice", "user:bob", "日本語", "a" * 300, "../../etc", "%00", "\u202e",
          "elevated", "user", "agent", "2026-01-01", "-1", "ztai-sk-0123456789ab"]
_SEGMENTS = ["mailer", "h-1", "g-1", "ra-1", "0123456789ab", "x y", "%2F", "..", "%00", "日本",
             "a" * 300, "user:bob", "-", "%25", "%E2%80%AE"]
_ACCESS = ("access.request", "POST", "/admin/access/requests",
           {"role": "chat-users", "duration_s": 600, "reason": "incident 42"})


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return rng.choice([None, True, False, 0, -1, 2**70, 1.5e308, 3.5, rng.choice(_TEXTS)])
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["kind", "reason", "level", "x", "groups", "kty"]): _value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def _body(rng: random.Random, valid: Any) -> Any:
    roll = rng.random()
    if not isinstance(valid, dict) or roll < 0.15:
        return _value(rng)
    body = dict(valid)
    for _ in range(rng.randint(1, 3)):
        if body and rng.random() < 0.7:
            body[rng.choice(list(body))] = _value(rng)
        else:
            body[rng.choice(["extra", "groups", "attributes", "expires_in_s", "ttl_s"])] = \
                _value(rng)
    return body


def _path(rng: random.Random, path: str) -> str:
    if rng.random() < 0.5:
        return path
    return re.sub(r"/(mailer|h-1|g-1|ra-1|0123456789ab|user:bob|bob)(?=/|$)",
                  lambda _: "/" + rng.choice(_SEGMENTS), path)


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_admin_calls_are_answered_without_a_server_error(tmp_path: Path,
                                                                     seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    endpoints = [*ADMINISTER, *APPROVE, _ACCESS]
    failed: list[str] = []
    answered: list[int] = []
    async with harness(tmp_path) as h:
        with within(120):
            for _ in range(CALLS):
                _, method, path, valid = rng.choice(endpoints)
                target = _path(rng, path)
                body = _body(rng, valid) if method in ("POST", "PUT") else None
                response = await h.client.request(method, target, json=body,
                                                  headers=auth(h.keys["admin"]))
                answered.append(response.status_code)
                if response.status_code >= 500 or (
                        response.status_code >= 400 and "error" not in response.json()):
                    failed.append(f"{method} {target} {body!r:.200} -> "
                                  f"{response.status_code} {response.text[:200]}")
    assert not failed, "\n".join(failed[:10])
    # the valid bodies and identifiers get through often enough to reach the services
    assert sum(200 <= status < 300 for status in answered) > CALLS // 10, sorted(answered)

"""A credential planted anywhere in a request never reaches the audit log or the process log
(content is not recorded by default): random requests to the chat, Responses and embeddings
routes, well-formed and not (those a route refuses with a 400 included: their error messages
name paths and values), some with the credential as the caller's justification, with every
control on. The audit events keep hashes, spans and kinds, never the text; a message that must
name what went wrong names it with credentials masked.

Seeded, so a failure repeats; more seeds:
``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/gateway/test_planted_audit.py``."""

from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path

import pytest

from tests.deadline import within
from tests.gateway.harness import Options, auth, harness
from tests.gateway.scripted import ScriptedUpstream
from tests.gateway.test_planted_secrets import AWS_KEY, ROUTES, places, plant
from tests.gateway.test_random_bodies import random_request
from ztai.gateway.classify import Classifier
from ztai.policy.bundled import starter_policies
from ztai.protection.encoded import EncodedContent
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector
from ztai.threats.shield import Shield

pytestmark = pytest.mark.anyio

REQUESTS = 150
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2").split(",")]


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_planted_key_never_reaches_the_logs(tmp_path: Path, seed: int,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    detectors = (SecretDetector.build(), structured_pii_detector())
    options = Options(shield=Shield(), upstream=ScriptedUpstream(lambda _: "ok"),
                      dlp=Classifier((*detectors, EncodedContent(detectors)), LabelScheme()),
                      policy_texts=starter_policies(), tool_calls=True)
    statuses: set[int] = set()
    with caplog.at_level(logging.DEBUG):
        async with harness(tmp_path, options) as h:
            for _ in range(REQUESTS):
                if rng.random() < 0.5:
                    route = rng.choice(list(ROUTES))
                    body = ROUTES[route](rng)
                else:  # of any shape: mostly refused
                    route, body = random_request(rng)
                headers = auth(h.keys["alice"])
                spots = [p for p in places(body) if p[1]]
                if spots and rng.random() < 0.9:
                    _, steps, key = rng.choice(spots)
                    plant(body, steps, key)
                else:
                    headers["x-ztai-justification"] = f"ticket 7, key {AWS_KEY}"
                with within(20):
                    response = await h.client.post(route, content=json.dumps(body),
                                                   headers={**headers,
                                                            "content-type": "application/json"})
                statuses.add(response.status_code)
            events = [e.payload.decode() for e in h.audit.read()]
    leaked = [event[:300] for event in events if AWS_KEY in event]
    assert not leaked, leaked[:3]
    logged = [r.getMessage() + str(r.exc_info or "") for r in caplog.records]
    assert not [line for line in logged if AWS_KEY in line], logged[:3]
    assert len(events) >= REQUESTS  # every request was audited
    assert {200, 400} <= statuses  # taken and refused ones among them

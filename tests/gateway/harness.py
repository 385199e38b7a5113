"""A gateway assembled from real parts (Cedar, simulator, audit writer) over memory stores, for
driving through httpx's ASGI transport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.gateway.identity_kit import IdentityKit, identity_kit
from ztai.agents.approvals import ApprovalQueue
from ztai.agents.destinations import DestinationFinder
from ztai.agents.pinning import PinBook
from ztai.agents.taint import TaintTracker
from ztai.audit.committer import WriterOptions
from ztai.audit.signing import generate_key_file
from ztai.audit.writer import AuditWriter
from ztai.config.settings import McpServerSettings
from ztai.core.clock import Clock, FixedClock
from ztai.core.flow import RequestStage, ResponseStage
from ztai.core.model import PrincipalKind, Resource, ResourceKind
from ztai.gateway.access import AccessService
from ztai.gateway.admin import AdminServices
from ztai.gateway.answer import AnswerPolicy
from ztai.gateway.app import Parts, create_app
from ztai.gateway.canary import CanaryStage
from ztai.gateway.catalog import Catalog, ModelRoute
from ztai.gateway.classify import Classifier, ClassifyStage
from ztai.gateway.clientinfo import MetaReader
from ztai.gateway.control import ControlView
from ztai.gateway.holds import Holds
from ztai.gateway.knowledge import (
    ChatBinding,
    KnowledgeService,
    RetrievalStage,
    knowledge_routes,
)
from ztai.gateway.mcp.gate import McpGate
from ztai.gateway.mcp.results import ResultScanner
from ztai.gateway.mcp.setup import inspector
from ztai.gateway.mcp.upstream import McpUpstream
from ztai.gateway.pipeline import PipelineOptions
from ztai.gateway.protect import ProtectStage
from ztai.gateway.shield import ExfiltrationDetector, ShieldStage
from ztai.gateway.stages import AuthorizeStage
from ztai.gateway.terms import TermsRoutes
from ztai.gateway.toolcalls import ToolCallPolicy
from ztai.gateway.verify import DeviceCheck, SignalOptions, VerifyStage
from ztai.identity.apikey import KeySpec, issue_key
from ztai.identity.keyset import KeySource
from ztai.knowledge.index import KnowledgeIndex
from ztai.monitoring.review import AlertReview
from ztai.policy.bundled import load_schema, starter_policies
from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.loader import load_policies
from ztai.policy.model import ResourceEntity
from ztai.protection.labels import DEFAULT_LABELS
from ztai.storage.memory import MemoryAuditStore, MemoryControlStore, MemoryKeyStore
from ztai.storage.pins import MemoryPinStore
from ztai.threats.output import OutputInspector
from ztai.threats.shield import Shield
from ztai.upstream.interface import Upstream
from ztai.upstream.simulator import SimulatorUpstream

MODELS = (("demo-chat", "internal"), ("demo-consumer-chat", "consumer"), ("demo-embed", "internal"),
          ("secret-chat", "internal"))
LABELS = {"secret-chat": "Confidential"}


@dataclass
class Harness:
    client: httpx.AsyncClient
    keys: dict[str, str]
    audit: MemoryAuditStore
    key_store: MemoryKeyStore
    clock: FixedClock
    parts: Parts
    control: MemoryControlStore
    kit: IdentityKit
    app: Any = None
    pins: MemoryPinStore | None = None

    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(e.payload) for e in self.audit.read()]

    def last_event(self) -> dict[str, Any]:
        events = self.events()
        assert events, "no audit event was written"
        return events[-1]


@dataclass
class Options:
    before: Sequence[RequestStage] = ()  # stages that run before authorize
    authorize: bool = True
    stage_timeout_s: float = 2.0
    response_stages: Sequence[ResponseStage] = ()
    upstream: Upstream | None = None
    audit: Any = None
    policy_texts: dict[str, str] = field(default_factory=dict)
    signals: SignalOptions = field(default_factory=SignalOptions)
    device: DeviceCheck | None = None
    terms: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the IdP's key source, made with the harness's clock (default: the kit's key, static)
    idp_keys: Callable[[Clock], KeySource] | None = None
    # data protection as ztai serve assembles it: classify before authorize, protect (the DLP
    # rules in the policy files) after it, and the answers scanned
    dlp: Classifier | None = None
    shield: Shield | None = None  # the prompt shield's detect stage, before authorize
    approvals: ApprovalQueue | None = None  # held calls, for the admin API and the pipeline
    hold_timeout_s: float = 10.0
    alerts: Callable[[Clock], AlertReview] | None = None  # risk alerts, for the admin API
    # upstream MCP servers served at /mcp/<name>, with the domains counted as internal
    mcp: Sequence[McpServerSettings] = ()
    internal_domains: tuple[str, ...] = ("corp.example",)
    canary: bool = False  # system-prompt canaries (after protect)
    # knowledge bases (and the chat models they back) with /v1/retrieve and the authorize API
    knowledge: Mapping[str, KnowledgeIndex] = field(default_factory=dict)
    knowledge_chat: Mapping[str, ChatBinding] = field(default_factory=dict)
    tool_calls: bool = False  # authorize the tool calls models propose (risk: send_* high)
    max_body_bytes: int = 64 * 1024


def _keys(store: MemoryKeyStore, clock: FixedClock) -> dict[str, str]:
    specs = {
        "alice": KeySpec("alice", PrincipalKind.USER, frozenset({"staff"}), {"dept": "eng"}),
        "bob": KeySpec("bob", PrincipalKind.USER, frozenset({"staff", "contractors"})),
        "nogrant": KeySpec("ci-bot", PrincipalKind.SERVICE),
        "revoked": KeySpec("carol", PrincipalKind.USER, frozenset({"staff"})),
        "expiring": KeySpec("dave", PrincipalKind.USER, frozenset({"staff"}), ttl_s=60),
        "admin": KeySpec("root", PrincipalKind.USER, frozenset({"admins"})),
    }
    keys = {}
    for name, spec in specs.items():
        key, record = issue_key(store, spec, clock)
        keys[name] = key.reveal()
        if name == "revoked":
            store.revoke_key(record.key_id, clock.now())
    return keys


@contextlib.asynccontextmanager
async def harness(tmp_path: Path, options: Options | None = None) -> AsyncIterator[Harness]:
    options = options or Options()
    clock = FixedClock()
    key_store, audit_store = MemoryKeyStore(), options.audit or MemoryAuditStore()
    control = MemoryControlStore()
    keys = _keys(key_store, clock)
    kit = identity_kit(key_store, control, clock,
                       options.idp_keys(clock) if options.idp_keys else None)
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir(exist_ok=True)
    for name, text in (options.policy_texts or starter_policies()).items():
        (policy_dir / name).write_text(text)
    upstream = options.upstream or SimulatorUpstream(clock=clock)
    catalog = Catalog(ModelRoute(name, upstream, name, tier) for name, tier in MODELS)
    authorizer = CedarAuthorizer(load_policies(policy_dir, load_schema()), [
        *(ResourceEntity(Resource(ResourceKind.MODEL, name), {
            "upstream": upstream.name, "tier": t,
            **({"label": LABELS[name]} if name in LABELS else {})})
          for name, t in MODELS),
        *(ResourceEntity(Resource(ResourceKind.KNOWLEDGE_BASE, name))
          for name in options.knowledge)])
    service = KnowledgeService(options.knowledge, authorizer, DEFAULT_LABELS) \
        if options.knowledge else None
    signer = generate_key_file(tmp_path / "audit.key")
    pins = MemoryPinStore()
    parts = Parts(
        clock=clock,
        authenticator=kit.authenticator,
        authorizer=authorizer,
        catalog=catalog,
        auditor=AuditWriter(audit_store, signer, clock, WriterOptions(checkpoint_every=4)),
        stages=[*options.before,
                VerifyStage(ControlView(control), clock, options.signals, options.device),
                *([RetrievalStage(service, options.knowledge_chat)]
                  if service is not None and options.knowledge_chat else []),
                *([ClassifyStage(options.dlp)] if options.dlp else []),
                *([ShieldStage(options.shield)] if options.shield else []),
                *([AuthorizeStage(authorizer)] if options.authorize else []),
                *([ProtectStage(authorizer)] if options.dlp else []),
                *([CanaryStage()] if options.canary else [])],
        answers=AnswerPolicy((*options.dlp.detectors, ExfiltrationDetector(OutputInspector())),
                             options.dlp.scheme, authorizer) if options.dlp else None,
        options=PipelineOptions(stage_timeout_s=options.stage_timeout_s),
        holds=Holds(options.approvals, clock, options.hold_timeout_s)
        if options.approvals is not None else None,
        tool_calls=ToolCallPolicy(authorizer, DestinationFinder(options.internal_domains),
                                  lambda name: "high" if name.startswith("send_") else "medium")
        if options.tool_calls else None,
        response_stages=options.response_stages,
        max_body_bytes=options.max_body_bytes,
        meta_reader=MetaReader.from_cidrs(["127.0.0.1/32"], "x-ztai-device"),
        mcp_gates=[McpGate(server, McpUpstream(server), PinBook(pins, clock, inspector(
            options.shield)), TaintTracker(clock), DestinationFinder(options.internal_domains),
            authorizer, ResultScanner(options.shield), 1_000_000)
            for server in options.mcp],
        extra_routes={**TermsRoutes(control, options.terms, clock).routes(),
                      **(knowledge_routes(service) if service is not None else {}),
                      ("POST", "/oauth2/token"): kit.token_route},
        admin=AdminServices(key_store, control, AccessService(control, clock), clock,
                            policies=lambda: authorizer.snapshot.policies, problems=tuple,
                            approvals=options.approvals,
                            alerts=options.alerts(clock) if options.alerts else None),
    )
    app = create_app(parts)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ztai.test") as client:
            yield Harness(client, keys, audit_store, key_store, clock, parts, control, kit,
                          app, pins)


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def chat(model: str = "demo-chat", text: str = "hello there", stream: bool = False,
         **extra: Any) -> dict[str, Any]:
    return {"model": model, "stream": stream,
            "messages": [{"role": "user", "content": text}], **extra}

"""Assemble the gateway's parts from settings: stores, keys, policies, upstreams, audit.
Every problem found here stops the start with a message naming what to fix."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import orjson
from joserfc.jwk import KeySet

from ztai.agents.approvals import ApprovalQueue
from ztai.audit.committer import WriterOptions
from ztai.audit.signing import CheckpointSigner
from ztai.audit.writer import AuditWriter
from ztai.config.settings import ConfigError, ModelSettings, Settings, UpstreamSettings
from ztai.core.clock import Clock, SystemClock
from ztai.core.model import Resource, ResourceKind
from ztai.core.secret import Secret
from ztai.gateway.access import AccessService
from ztai.gateway.admin import AdminServices
from ztai.gateway.agents import ControlAgentDirectory
from ztai.gateway.agents_setup import budget_stage, webhook_from
from ztai.gateway.app import Parts
from ztai.gateway.catalog import Catalog, ModelRoute
from ztai.gateway.clientinfo import MetaReader
from ztai.gateway.control import ControlView
from ztai.gateway.device import SignedDeviceCheck
from ztai.gateway.fastpath import FastRoute
from ztai.gateway.holds import Holds
from ztai.gateway.identity_setup import build_identity
from ztai.gateway.knowledge_setup import build_knowledge
from ztai.gateway.mcp.setup import build_gates, proposed_calls
from ztai.gateway.metrics import Metrics
from ztai.gateway.pipeline import PipelineOptions
from ztai.gateway.protection_setup import build_protection, request_stages
from ztai.gateway.stages import AuthorizeStage
from ztai.gateway.terms import TermsRoutes
from ztai.gateway.verify import SignalOptions, VerifyStage
from ztai.policy.bundled import load_schema
from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.compiler import PolicyLoadError
from ztai.policy.loader import load_policies, not_loaded
from ztai.policy.model import ReloadStatus, ResourceEntity
from ztai.policy.reload import PolicyReloader
from ztai.storage.interface import TermsStore
from ztai.storage.pins import SqlitePinStore
from ztai.storage.sqlite import (
    SqliteApprovalStore,
    SqliteAuditStore,
    SqliteControlStore,
    SqliteKeyStore,
)
from ztai.upstream.interface import Upstream
from ztai.upstream.model import Flavour, OpenAIOptions, Pool, SimulatorOptions, Timeouts
from ztai.upstream.openai import OpenAIUpstream
from ztai.upstream.simulator import SimulatorUpstream

log = logging.getLogger("ztai.gateway")


class PolicyFileWatcher:
    def __init__(self, reloader: PolicyReloader) -> None:
        self._reloader = reloader

    def poll(self, metrics: Metrics) -> None:
        result = self._reloader.check()
        if result.status is ReloadStatus.UNCHANGED:
            return
        metrics.policy_reloads.labels(result.status.value).inc()
        if result.status is ReloadStatus.RELOADED:
            metrics.policies_loaded.set(result.policy_count)
            log.info("policies reloaded: %d in force", result.policy_count)
        else:
            log.error("policy edit rejected, last good set stays in force: %s",
                      "; ".join(str(p) for p in result.problems))


def build_parts(settings: Settings, clock: Clock | None = None) -> Parts:
    clock = clock or SystemClock()
    database = settings.path(settings.storage.sqlite_path)
    keys, audit = SqliteKeyStore(database), SqliteAuditStore(database, fsync=settings.audit.fsync)
    control = SqliteControlStore(database)
    view = ControlView(control)
    identity = build_identity(settings, keys, ControlAgentDirectory(view), clock)
    upstreams = _upstreams(settings)
    catalog = Catalog(_route(m, upstreams) for m in settings.models)
    authorizer = load_authorizer(settings)
    knowledge = build_knowledge(settings, authorizer)
    protection = build_protection(settings, authorizer, knowledge.printed,
                                  followed=knowledge.follower is not None)
    background = [knowledge.follower.follow(protection.fingerprints)] \
        if knowledge.follower is not None and protection is not None \
        and protection.fingerprints is not None else []
    pins, held = SqlitePinStore(database), SqliteApprovalStore(database)
    notifier = webhook_from(settings, clock)
    approvals = ApprovalQueue(held, clock, notifier)
    budget = budget_stage(settings, clock)
    shield = protection.detect.shield if protection and protection.detect else None
    reloader = PolicyReloader(authorizer, _policy_dir(settings))
    access = AccessService(control, clock)
    writer = AuditWriter(audit, audit_signer(settings), clock, WriterOptions(
        checkpoint_every=settings.audit.checkpoint_every,
        checkpoint_interval_s=settings.audit.checkpoint_interval_s,
        anchor_path=settings.path(settings.audit.anchor_file) if settings.audit.anchor_file
        else None))
    return Parts(
        clock=clock,
        authenticator=identity.authenticator,
        authorizer=authorizer,
        catalog=catalog,
        auditor=writer,
        # the budget counts only calls that were allowed
        stages=[verify_stage(settings, view, clock),
                *([knowledge.stage] if knowledge.stage is not None else []),
                *request_stages(protection, AuthorizeStage(authorizer)),
                *([budget] if budget is not None else [])],
        answers=protection.answers if protection is not None else None,
        options=PipelineOptions(settings.server.stage_timeout_s, settings.audit.record_content),
        max_body_bytes=settings.server.max_body_bytes,
        watcher=PolicyFileWatcher(reloader),
        reload_interval_s=settings.policy.reload_interval_s,
        meta_reader=MetaReader.from_cidrs(settings.network.trusted_proxies,
                                          settings.device.claim_header),
        extra_routes={**terms_routes(settings, control, clock), **knowledge.routes,
                      ("POST", "/oauth2/token"): identity.token_route},
        mcp_gates=build_gates(settings, authorizer, shield, pins, clock),
        tool_calls=proposed_calls(settings, authorizer),
        holds=Holds(approvals, clock, settings.agents.approval_timeout_s),
        usage=budget.charge if budget is not None else None,
        approvals=approvals,
        access=access,
        admin=AdminServices(keys, control, access, clock,
                            policies=lambda: authorizer.snapshot.policies,
                            problems=lambda: reloader.problems, approvals=approvals),
        closers=[keys.close, audit.close, control.close, pins.close, held.close,
                 *knowledge.closers],
        async_closers=[identity.jwks_client.aclose,
                       *([notifier.aclose] if notifier is not None else [])],
        background=background,
    )


def verify_stage(settings: Settings, view: ControlView, clock: Clock) -> VerifyStage:
    options = SignalOptions(
        networks={name: tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)
                  for name, cidrs in settings.network.ranges.items()},
        terms={t.app: t.version for t in settings.terms},
        model_terms={m.name: m.terms for m in settings.models if m.terms},
        mfa_acr_values=frozenset(settings.identity.mfa_acr_values),
        max_session_age_s=settings.identity.max_session_age_s,
    )
    return VerifyStage(view, clock, options, _device_check(settings))


def _device_check(settings: Settings) -> SignedDeviceCheck:
    device = settings.device
    keys = None
    if device.jwks_file is not None:
        try:
            keys = KeySet.import_key_set(orjson.loads(settings.path(device.jwks_file).read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"device.jwks_file: cannot load keys: {exc}") from exc
    return SignedDeviceCheck(keys, device.issuer,
                             trust_verified_client_certs=device.trust_verified_client_certs)


def terms_routes(settings: Settings, control: TermsStore,
                 clock: Clock) -> dict[tuple[str, str], FastRoute]:
    return TermsRoutes(control, {t.app: (t.version, t.url) for t in settings.terms},
                       clock).routes()


def _policy_dir(settings: Settings) -> Path:
    return settings.path(settings.policy.dir)


def load_authorizer(settings: Settings) -> CedarAuthorizer:
    """The configured policies over the configured models; ``ConfigError`` if invalid."""
    directory = _policy_dir(settings)
    for note in not_loaded(directory):
        log.warning("policy directory %s: %s", directory, note)
    try:
        policies = load_policies(directory, load_schema())
    except PolicyLoadError as exc:
        raise ConfigError("invalid policies: " + "; ".join(str(p) for p in exc.problems)) from exc
    return CedarAuthorizer(policies, model_entities(settings))


def model_entities(settings: Settings) -> list[ResourceEntity]:
    """The configured models as Cedar resources, with the attributes policies may read."""
    return [
        *(ResourceEntity(Resource(ResourceKind.MODEL, model.name), {
            "upstream": model.upstream, "tier": model.tier,
            **({"label": model.label} if model.label else {})})
          for model in settings.models),
        *(ResourceEntity(Resource(ResourceKind.KNOWLEDGE_BASE, base.name))
          for base in settings.knowledge.bases),
    ]


def audit_signer(settings: Settings) -> CheckpointSigner:
    """The audit log's checkpoint signer; ``ConfigError`` naming the file if it is missing or
    holds no unencrypted Ed25519 key (before 2026-11-28 the second ended in a traceback)."""
    path = settings.path(settings.audit.signing_key)
    if not path.exists():
        raise ConfigError(f"audit signing key {path} is missing; 'ztai init' creates one")
    try:
        return CheckpointSigner.from_pem_file(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"audit.signing_key {path}: {exc}") from exc


def _upstreams(settings: Settings) -> dict[str, Upstream]:
    return {u.name: _upstream(u, settings) for u in settings.upstreams}


def _upstream(u: UpstreamSettings, settings: Settings) -> Upstream:
    if u.kind == "simulator":
        return SimulatorUpstream(SimulatorOptions(name=u.name))
    try:
        return OpenAIUpstream(_options(u, settings))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _options(u: UpstreamSettings, settings: Settings) -> OpenAIOptions:
    return OpenAIOptions(
        name=u.name,
        base_url=u.base_url or "",
        api_key=_api_key(u, settings),
        flavour=Flavour.AZURE if u.kind == "azure" else Flavour.OPENAI,
        azure_deployment=u.azure_deployment,
        azure_api_version=u.azure_api_version,
        timeouts=Timeouts(connect=u.connect_timeout_s, read=u.timeout_s, total=u.timeout_s),
        pool=Pool(max_connections=u.max_connections),
    )


def _api_key(u: UpstreamSettings, settings: Settings) -> Secret | None:
    if u.api_key_env:
        value = os.environ.get(u.api_key_env)
        if not value:
            raise ConfigError(f"upstream {u.name}: environment variable {u.api_key_env} is unset")
        return Secret(value)
    if u.api_key_file:
        try:
            return Secret(settings.path(u.api_key_file).read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(f"upstream {u.name}: cannot read api_key_file: {exc}") from exc
    return None


def _route(model: ModelSettings, upstreams: dict[str, Upstream]) -> ModelRoute:
    return ModelRoute(model.name, upstreams[model.upstream], model.upstream_model or model.name,
                      model.tier)

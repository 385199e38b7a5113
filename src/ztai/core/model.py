"""Canonical values: who asks (Principal), what flows (Exchange, Segment), what was decided."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

PrincipalId = NewType("PrincipalId", str)
ExchangeId = NewType("ExchangeId", str)


class PrincipalKind(StrEnum):
    USER = "user"
    AGENT = "agent"
    SERVICE = "service"


class Action(StrEnum):
    INVOKE_MODEL = "invoke_model"
    EMBED = "embed"
    LIST_MODELS = "list_models"
    CALL_TOOL = "call_tool"
    LIST_TOOLS = "list_tools"
    READ_RESOURCE = "read_resource"  # an MCP resource
    GET_PROMPT = "get_prompt"  # an MCP prompt template
    RETRIEVE = "retrieve"
    ACCEPT_TERMS = "accept_terms"
    REQUEST_ACCESS = "request_access"
    APPROVE_ACCESS = "approve_access"
    ISSUE_TOKEN = "issue_token"  # noqa: S105  # an action name, not a secret
    ADMINISTER = "administer"


class ResourceKind(StrEnum):
    MODEL = "Model"
    GATEWAY = "Gateway"
    TOOL = "Tool"
    KNOWLEDGE_BASE = "KnowledgeBase"


class Role(StrEnum):
    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Provenance(StrEnum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    ``auth_method`` says how it was verified (``api_key``, ``jwt``, ``agent_token``);
    ``credential_id`` names the credential (a key id, a token's ``jti``); ``amr``/``acr`` are the
    authentication methods and context class the identity provider asserted. An agent names its
    ``sponsor`` (the accountable user) and, when it acts on someone's behalf, ``acting_for`` is
    that principal: the delegation chain runs from ``acting_for`` down to this principal.
    ``authenticated_at`` is when the person behind a token last signed in (OIDC ``auth_time``,
    else the IdP token's ``iat``); None where no sign-in stands behind the credential (API keys).
    """

    id: PrincipalId
    kind: PrincipalKind
    groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    auth_method: str = "none"
    credential_id: str = ""
    amr: frozenset[str] = frozenset()
    acr: str | None = None
    issuer: str | None = None
    session_id: str | None = None
    expires_at: float | None = None
    authenticated_at: float | None = None
    sponsor: str | None = None
    acting_for: Principal | None = None

    def chain(self) -> tuple[Principal, ...]:
        """The delegation chain, the original principal first and this one last."""
        upstream = self.acting_for.chain() if self.acting_for is not None else ()
        return (*upstream, self)


@dataclass(frozen=True, slots=True)
class Resource:
    kind: ResourceKind
    id: str


GATEWAY = Resource(ResourceKind.GATEWAY, "gateway")  # the resource of gateway-wide actions


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of content in an exchange, with where it came from and whether it is trusted."""

    role: Role
    text: str
    source: str = "request"
    provenance: Provenance = Provenance.TRUSTED
    labels: frozenset[str] = frozenset()
    definition: bool = False  # a tool's or the answer format's definition, not a message
    unread: bool = False  # for the provider or server, not the model (metadata, an address): DLP


@dataclass(frozen=True, slots=True)
class Exchange:
    """One interaction of any protocol shape, as every route translates it for the pipeline."""

    id: ExchangeId
    route: str
    action: Action
    resource: Resource
    segments: tuple[Segment, ...] = ()
    stream: bool = False
    signals: Mapping[str, str | int | bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a detector saw in a segment. Never carries the matched text itself."""

    kind: str
    segment: int
    span: Span
    score: float
    detector: str


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something that must happen for an allow to stand (e.g. redact, step_up)."""

    kind: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """The pipeline's verdict. ``reasons`` are human-readable; ``policy_ids`` name the deciders."""

    effect: Effect
    reasons: tuple[str, ...] = ()
    policy_ids: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = ()

    @property
    def is_allow(self) -> bool:
        return self.effect is Effect.ALLOW

    @classmethod
    def allow(cls, reason: str, policy_ids: tuple[str, ...] = ()) -> Decision:
        return cls(Effect.ALLOW, (reason,), policy_ids)

    @classmethod
    def deny(cls, reason: str, policy_ids: tuple[str, ...] = ()) -> Decision:
        return cls(Effect.DENY, (reason,), policy_ids)

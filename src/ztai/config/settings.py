"""Settings, parsed once from ``ztai.yaml`` into frozen values. Environment variables override
fields: ``ZTAI_SERVER__PORT=9000`` sets ``server.port``. Errors name the bad field."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ztai.core.errors import ZtaiError

ENV_PREFIX = "ZTAI_"


class ConfigError(ZtaiError):
    code = "config_error"


class _Frozen(BaseModel):
    # a timeout, interval or threshold of .inf or .nan is a mistake, not "never"
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_flag_for_a_number(cls, value: object, info: ValidationInfo) -> object:
        """YAML reads ``true``, ``on`` and ``yes`` as booleans, which pydantic took for 1
        (``max_body_bytes: true`` was a one-byte limit)."""
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if annotation in _NUMBERS:
                raise ValueError("a number is expected, not true or false")
        return value


_NUMBERS: tuple[object, ...] = (int, float, int | None, float | None)
# a host name: dot-separated labels of letters, digits and inner hyphens (RFC 1123), and
# underscores, which container networks' service names hold (``ztai_gateway``)
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def check_host(host: str) -> str:
    """``host`` if it is an IP address or a host name; ``ValueError`` otherwise (before, a bad
    bind address reached the server and failed there with a traceback)."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels):
        return host
    raise ValueError(f"{host!r} is neither an IP address nor a host name")


class ServerSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, gt=0)
    stage_timeout_s: float = Field(2.0, gt=0)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_host(value)


class StorageSettings(_Frozen):
    sqlite_path: Path = Path("ztai.db")


class PolicySettings(_Frozen):
    dir: Path = Path("policies")
    reload_interval_s: float = Field(1.0, gt=0)


class AuditSettings(_Frozen):
    signing_key: Path = Path("audit-signing.key")
    record_content: bool = False
    # fsync every group commit (durable against power loss). false: durable against the process
    # being killed, not against the machine losing power; lower latency at low concurrency.
    fsync: bool = True
    checkpoint_every: int = Field(256, gt=0)
    checkpoint_interval_s: float = Field(5.0, gt=0)
    anchor_file: Path | None = None


class UpstreamSettings(_Frozen):
    name: str = Field(min_length=1)
    kind: Literal["openai", "azure", "simulator"]
    base_url: str | None = None
    api_key_env: str | None = None
    api_key_file: Path | None = None
    timeout_s: float = Field(60.0, gt=0)
    connect_timeout_s: float = Field(5.0, gt=0)
    max_connections: int = Field(100, gt=0)
    azure_deployment: str | None = None
    azure_api_version: str | None = None

    @model_validator(mode="after")
    def _needs_url(self) -> UpstreamSettings:
        if self.kind != "simulator" and not self.base_url:
            raise ValueError(f"upstream {self.name!r} of kind {self.kind} needs base_url")
        return self


class ModelSettings(_Frozen):
    name: str = Field(min_length=1, max_length=256)
    upstream: str
    upstream_model: str | None = None
    tier: Literal["internal", "sanctioned", "consumer"] = "internal"
    label: str | None = None  # the highest sensitivity label the model is cleared for
    terms: str | None = None  # the terms-of-use app that covers this model
    cost_per_1k_tokens: float = Field(0.0, ge=0)  # what agents' cost budgets are charged


class NetworkSettings(_Frozen):
    """``trusted_proxies`` may set X-Forwarded-For and forward client-certificate headers;
    ``ranges`` name networks for policies (``context.network``)."""

    trusted_proxies: tuple[str, ...] = ()
    ranges: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cidrs(self) -> NetworkSettings:
        for cidr in (*self.trusted_proxies, *(c for r in self.ranges.values() for c in r)):
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"invalid network {cidr!r}: {exc}") from None
        return self


class DeviceSettings(_Frozen):
    """Device claims are JWS signed by the device-management service (keys in ``jwks_file``)."""

    claim_header: str = "x-ztai-device"
    issuer: str = "ztai-device"
    jwks_file: Path | None = None
    trust_verified_client_certs: bool = False


class TermsSettings(_Frozen):
    app: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    version: str = Field(min_length=1)
    url: str = ""


class ClaimSettings(_Frozen):
    """Where an identity provider's tokens keep who the caller is (dotted paths allowed)."""

    subject: str = "sub"
    groups: tuple[str, ...] = ("groups", "roles")
    amr: str = "amr"
    acr: str = "acr"
    session: str = "sid"
    kind: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    subject_prefix: str = ""


class IssuerSettings(_Frozen):
    """An OIDC identity provider whose JWT access tokens ztai accepts."""

    issuer: str = Field(min_length=1)
    audiences: tuple[str, ...] = Field(min_length=1)
    jwks_url: str | None = None
    jwks_file: Path | None = None
    jwks_ttl_s: float = Field(300.0, gt=0)
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    leeway_s: int = Field(60, ge=0, le=300)
    max_token_lifetime_s: int | None = Field(None, gt=0)  # refuse tokens living longer (exp-iat)
    token_types: tuple[str, ...] = ()
    claims: ClaimSettings = ClaimSettings()

    @model_validator(mode="after")
    def _one_key_source(self) -> IssuerSettings:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError(f"issuer {self.issuer!r} needs exactly one of jwks_url, jwks_file")
        return self


class TokenSettings(_Frozen):
    """ztai's own short-lived access tokens for agents. ``endpoint`` is the token endpoint's
    URL as agents see it: their client assertions must name it as audience."""

    issuer: str = Field("urn:ztai", min_length=1)
    audience: str = Field("ztai", min_length=1)
    signing_key: Path = Path("token-signing.key")
    ttl_s: int = Field(300, gt=0, le=3600)
    # empty: a traceback at start before 2026-11-28; a path: taken as given
    endpoint: str = Field("http://127.0.0.1:8080/oauth2/token", pattern=r"^https?://[^/\s]+")


class IdentitySettings(_Frozen):
    issuers: tuple[IssuerSettings, ...] = ()
    tokens: TokenSettings = TokenSettings()
    mfa_acr_values: tuple[str, ...] = ()  # acr values that count as multi-factor
    # how long a person's sign-in (auth_time, else iat) is good for, whatever the token says
    max_session_age_s: float | None = Field(None, gt=0)


class LabelRuleSettings(_Frozen):
    kinds: tuple[str, ...] = Field(min_length=1)  # finding kinds, shell patterns (secret.*)
    label: str


class FingerprintSettings(_Frozen):
    """A protected document: its text is fingerprinted at start (only hashes are kept)."""

    id: str = Field(min_length=1)
    file: Path
    label: str = "Confidential"


class ProtectionSettings(_Frozen):
    """What the classify stage looks for in every request. Names, places and street addresses
    (``pii_names``: word lists, about 0.2 ms per KB of prose, more where names are dense; or
    ``pii_ner``: spaCy NER added, tens of ms per KB) are off unless asked for."""

    enabled: bool = True
    responses: bool = True  # scan answers too (DLP rules with direction "response")
    secrets: bool = True
    pii: bool = True
    pii_names: bool = False
    # names and places also from spaCy NER (pip install 'ztai[ner]'): more recall, ~30 ms per KB
    pii_ner: bool = False
    # the detectors also read base64 and hex runs decoded (a key encoded to slip past them)
    encoded: bool = True
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR")
    terms: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # slug -> phrases
    fingerprints: tuple[FingerprintSettings, ...] = ()
    labels: tuple[str, ...] = ("Public", "General", "Confidential", "Highly Confidential")
    # external label ids (e.g. Microsoft Purview label GUIDs) -> ztai label names
    label_ids: dict[str, str] = Field(default_factory=dict)
    label_rules: tuple[LabelRuleSettings, ...] = (
        LabelRuleSettings(kinds=("secret.*",), label="Highly Confidential"),
        LabelRuleSettings(kinds=("pii.credit_card", "pii.iban", "pii.us_ssn", "pii.us_itin",
                                 "pii.uk_nino", "term.*", "fingerprint.*"),
                          label="Confidential"),
        LabelRuleSettings(kinds=("pii.*",), label="General"),
    )


class ShieldSettings(_Frozen):
    """The prompt shield: every segment is scanned for direct and indirect prompt injection,
    jailbreaks and obfuscation; answers for exfiltration (links and images to domains not in
    ``allowed_domains``, hidden HTML). Policy decides what happens (``injection``, ...)."""

    enabled: bool = True
    sensitivity: Literal["low", "medium", "high"] = "medium"
    answers: bool = True
    allowed_domains: tuple[str, ...] = ()  # link and image hosts answers may point to
    # add a random canary marker to each system prompt and block answers that repeat it
    canaries: bool = False


ToolRisk = Literal["low", "medium", "high"]


class McpToolSettings(_Frozen):
    """What ztai declares about one tool of an MCP server (its own annotations are hints from
    the server, which may lie): the risk policies see, and whether its output is untrusted."""

    risk: ToolRisk | None = None
    untrusted_output: bool | None = None


class McpServerSettings(_Frozen):
    """An upstream MCP server, reached over streamable HTTP (``url``) or launched by ztai and
    spoken to over stdio (``command``). Its tools are served at ``/mcp/<name>``."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    url: str | None = None
    headers_env: dict[str, str] = Field(default_factory=dict)  # header -> environment variable
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = None
    timeout_s: float = Field(30.0, gt=0)
    default_risk: ToolRisk = "medium"
    untrusted_output: bool = True  # tool results are outside content unless said otherwise
    tools: dict[str, McpToolSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.url is None) == (self.command is None):
            raise ValueError(f"mcp server {self.name!r}: give exactly one of url and command")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"mcp server {self.name!r}: url must be http:// or https://")
        return self


class McpSettings(_Frozen):
    """The MCP gateway. ``internal_domains``: e-mail and web destinations inside the
    organisation (a tool argument naming any other is an external destination);
    ``taint_ttl_s``: how long untrusted content read in a session keeps it tainted."""

    servers: tuple[McpServerSettings, ...] = ()
    internal_domains: tuple[str, ...] = ()
    # the functions applications run themselves, as models propose them on the OpenAI routes
    # (Tool::"client/<name>"): their declared risk, and the risk of any other
    client_tools: dict[str, McpToolSettings] = Field(default_factory=dict)
    client_default_risk: ToolRisk = "medium"
    authorize_proposed_calls: bool = True
    taint_ttl_s: float = Field(3600.0, gt=0)
    max_result_chars: int = Field(1_000_000, gt=0)


class BudgetSettings(_Frozen):
    """An agent's budget; a limit left out (null) is no limit."""

    calls_per_minute: int | None = Field(None, ge=0)
    steps_per_session: int | None = Field(None, ge=0)
    tokens_per_day: int | None = Field(None, ge=0)
    cost_per_day: float | None = Field(None, ge=0)


class AgentBudgetSettings(_Frozen):
    """``default`` applies to every agent without an entry in ``agents`` (by agent name); an
    entry replaces the default whole, so a limit it leaves out is no limit for that agent."""

    default: BudgetSettings = BudgetSettings()
    agents: dict[str, BudgetSettings] = Field(default_factory=dict)


class ApprovalWebhookSettings(_Frozen):
    """Where held calls are announced: a JSON POST signed with HMAC-SHA256 using the secret in
    the environment variable ``secret_env``; ``links_base_url`` is the gateway's URL as the
    approvers reach it (the notice's approve and deny links point there)."""

    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field(min_length=1)
    links_base_url: str = Field("http://127.0.0.1:8080", pattern=r"^https?://")
    timeout_s: float = Field(5.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10)


class AgentSettings(_Frozen):
    """Agents: how long a held call waits for a person, who is told, and budgets."""

    approval_timeout_s: float = Field(120.0, gt=0, le=86400)
    approval_webhook: ApprovalWebhookSettings | None = None
    budgets: AgentBudgetSettings = AgentBudgetSettings()


class WebhookSinkSettings(_Frozen):
    """Risk alerts POSTed as JSON. The URL may carry a token: give it in an environment
    variable (``url_env``) rather than in the file."""

    url: str | None = None
    url_env: str | None = None
    format: Literal["ztai", "ocsf"] = "ztai"
    timeout_s: float = Field(5.0, gt=0, le=60)
    signing_secret_env: str | None = None  # HMAC-SHA256 of the body in x-ztai-signature

    @model_validator(mode="after")
    def _one_url(self) -> WebhookSinkSettings:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        return self


class SyslogSinkSettings(_Frozen):
    host: str = Field(min_length=1)
    port: int = Field(514, ge=1, le=65535)
    protocol: Literal["udp", "tcp"] = "udp"
    facility: int = Field(16, ge=0, le=23)  # 16: local0
    app_name: str = "ztai"
    timeout_s: float = Field(5.0, gt=0, le=60)


class RiskSinkSettings(_Frozen):
    """Where risk alerts go besides the admin API; failed deliveries are retried with
    doubling back-off up to ``max_attempts`` and stay recorded."""

    webhook: WebhookSinkSettings | None = None
    syslog: SyslogSinkSettings | None = None
    pseudonymise: bool = True  # sinks see pseudonyms, as analysts do
    max_attempts: int = Field(5, ge=1, le=100)
    backoff_s: float = Field(30.0, gt=0)


class RiskThresholdSettings(_Frozen):
    minor: float = Field(10.0, gt=0)
    moderate: float = Field(30.0, gt=0)
    elevated: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> RiskThresholdSettings:
        if not self.minor <= self.moderate <= self.elevated:
            raise ValueError("thresholds must satisfy minor <= moderate <= elevated")
        return self


class RiskSettings(_Frozen):
    """Risk-adaptive protection (``ztai.monitoring``): scores every principal's audit stream
    and publishes ``context.risk_level``. Runs inside ``ztai serve`` when ``in_serve``, or on
    its own as ``ztai risk run``. Scoring is documented in ``ztai/monitoring/scoring.py``."""

    enabled: bool = True
    in_serve: bool = True
    interval_s: float = Field(2.0, gt=0, le=3600)
    batch_size: int = Field(2000, gt=0, le=100_000)
    half_life_s: float = Field(21600.0, gt=0)
    bucket_s: float = Field(3600.0, gt=0)
    thresholds: RiskThresholdSettings = RiskThresholdSettings()
    alert_level: Literal["minor", "moderate", "elevated"] = "moderate"
    override_hold_s: float = Field(86400.0, ge=0)  # an analyst's level holds this long
    learning_events: int = Field(30, ge=0)
    sensitive_label: str = "Confidential"
    work_hours: tuple[int, int] = (7, 19)  # UTC, [start, end)
    work_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays
    peer_groups: tuple[str, ...] = ()  # groups that form peer groups, first match wins
    pseudonym_key: Path = Path("risk-pseudonym.key")
    sinks: RiskSinkSettings = RiskSinkSettings()

    @model_validator(mode="after")
    def _hours(self) -> RiskSettings:
        start, end = self.work_hours
        if not 0 <= start < end <= 24 or not all(1 <= d <= 7 for d in self.work_days):
            raise ValueError("work_hours must be 0 <= start < end <= 24, work_days 1..7")
        return self


class KnowledgeBaseSettings(_Frozen):
    """A document index built with ``ztai knowledge index`` (the gateway opens it read-only
    and picks up changes as the indexer writes them)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    index: Path


class KnowledgeChatSettings(_Frozen):
    """A knowledge-backed model: chat requests to ``model`` get the permitted chunks of
    ``base`` for their question (at most ``k``)."""

    model: str
    base: str
    k: int = Field(4, ge=1, le=20)


class KnowledgeSettings(_Frozen):
    bases: tuple[KnowledgeBaseSettings, ...] = ()
    chat: tuple[KnowledgeChatSettings, ...] = ()


class Settings(_Frozen):
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    policy: PolicySettings = PolicySettings()
    audit: AuditSettings = AuditSettings()
    upstreams: tuple[UpstreamSettings, ...] = ()
    models: tuple[ModelSettings, ...] = ()
    identity: IdentitySettings = IdentitySettings()
    protection: ProtectionSettings = ProtectionSettings()
    shield: ShieldSettings = ShieldSettings()
    network: NetworkSettings = NetworkSettings()
    device: DeviceSettings = DeviceSettings()
    terms: tuple[TermsSettings, ...] = ()
    mcp: McpSettings = McpSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    agents: AgentSettings = AgentSettings()
    risk: RiskSettings = RiskSettings()
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        names = _unique([u.name for u in self.upstreams], "upstream names")
        models = _unique([m.name for m in self.models], "model names")
        bases = _unique([b.name for b in self.knowledge.bases], "knowledge base names")
        # a second entry of these replaced the first without a word before 2026-11-28
        _unique([c.model for c in self.knowledge.chat], "knowledge.chat models")
        _unique([f.id for f in self.protection.fingerprints], "protection.fingerprints ids")
        apps = _unique([t.app for t in self.terms], "terms apps")
        for chat in self.knowledge.chat:
            if chat.model not in models:
                raise ValueError(f"knowledge.chat names unknown model {chat.model!r}")
            if chat.base not in bases:
                raise ValueError(f"knowledge.chat names unknown knowledge base {chat.base!r}")
        _unique([m.name for m in self.mcp.servers], "mcp server names")
        for model in self.models:
            if model.upstream not in names:
                raise ValueError(f"model {model.name!r} names unknown upstream {model.upstream!r}")
            if model.terms is not None and model.terms not in apps:
                raise ValueError(f"model {model.name!r} names unknown terms {model.terms!r}")
        return self

    def path(self, relative: Path) -> Path:
        """A configured path, resolved against the config file's directory."""
        return relative if relative.is_absolute() else self.base_dir / relative


def _unique(values: list[str], what: str) -> set[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} must be unique: {value!r} is given twice")
        seen.add(value)
    return seen


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, but a key given twice in one mapping raises ``yaml.YAMLError``."""
    return yaml.load(text, _UniqueKeyLoader)  # noqa: S506 -- a SafeLoader


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a mapping that names a key twice is an error: by default the
    last one wins, so a second ``protection:`` section silently replaced the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *base"; its keys may be restated
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read, override and validate; raises ``ConfigError`` naming the file and the field."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    apply_overrides(raw, os.environ if environ is None else environ)
    raw["base_dir"] = str(path.resolve().parent)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from exc


def apply_overrides(raw: dict[str, Any], environ: dict[str, str] | os._Environ[str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, field = name[len(ENV_PREFIX):].lower().partition("__")
        target = raw.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"{name}: section {section!r} is not a mapping")
        try:
            target[field] = yaml.safe_load(value)
        except yaml.YAMLError as exc:  # the value is not echoed: it may be a secret
            problem = getattr(exc, "problem", None) or "unreadable"
            raise ConfigError(f"{name}: not a YAML value ({problem}); quote a string that "
                              "starts with [, {, or holds ': '") from None


def with_server(settings: Settings, **changes: object) -> Settings:
    """``settings`` with ``server`` fields changed (the command line's ``--host``, ``--port``),
    validated as the file's are; raises ``ConfigError``."""
    try:
        server = ServerSettings.model_validate({**settings.server.model_dump(), **changes})
    except ValidationError as exc:
        raise ConfigError(describe(exc, "server.")) from exc
    return settings.model_copy(update={"server": server})


def describe(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for error in exc.errors():
        location = prefix + ".".join(str(p) for p in error["loc"]) or "(top level)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)

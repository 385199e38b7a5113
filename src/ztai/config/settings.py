"""Settings, parsed once from ``ztai.yaml`` into frozen values. Environment variables override
fields: ``ZTAI_SERVER__PORT=9000`` sets ``server.port``. Errors name the bad field."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ztai.core.errors import ZtaiError

ENV_PREFIX = "ZTAI_"


class ConfigError(ZtaiError):
    code = "config_error"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, gt=0)
    stage_timeout_s: float = Field(2.0, gt=0)


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

    issuer: str = "urn:ztai"
    audience: str = "ztai"
    signing_key: Path = Path("token-signing.key")
    ttl_s: int = Field(300, gt=0, le=3600)
    endpoint: str = "http://127.0.0.1:8080/oauth2/token"


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
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        names = [u.name for u in self.upstreams]
        if len(set(names)) != len(names):
            raise ValueError("upstream names must be unique")
        models = [m.name for m in self.models]
        if len(set(models)) != len(models):
            raise ValueError("model names must be unique")
        apps = {t.app for t in self.terms}
        for model in self.models:
            if model.upstream not in names:
                raise ValueError(f"model {model.name!r} names unknown upstream {model.upstream!r}")
            if model.terms is not None and model.terms not in apps:
                raise ValueError(f"model {model.name!r} names unknown terms {model.terms!r}")
        return self

    def path(self, relative: Path) -> Path:
        """A configured path, resolved against the config file's directory."""
        return relative if relative.is_absolute() else self.base_dir / relative


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read, override and validate; raises ``ConfigError`` naming the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
        target[field] = yaml.safe_load(value)


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"]) or "(top level)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)

"""Upstream settings as values: how to reach an OpenAI-compatible provider, and the simulator's."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ztai.core.secret import Secret


class Flavour(StrEnum):
    OPENAI = "openai"
    """``{base_url}/{endpoint}`` with ``Authorization: Bearer``: OpenAI, vLLM, Ollama, LM Studio."""
    AZURE = "azure"
    """``{base_url}/openai/deployments/{deployment}/{endpoint}?api-version=V`` with ``api-key``."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``connect`` bounds opening a connection (TLS handshake included) and ``pool``
    waiting for a free one; ``write`` bounds each wait to hand the request to the kernel;
    ``read`` bounds each wait for bytes (so a stalled stream times out); ``total`` bounds a
    whole non-streamed call, from waiting for a connection to the last body byte (None: no
    bound). A streamed call has no total."""

    connect: float = 5.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 10.0
    total: float | None = 300.0


@dataclass(frozen=True, slots=True)
class Pool:
    """At most ``max_connections`` open at once; any idle one is kept for ``keepalive_expiry``
    seconds. ``max_keepalive_connections`` is not enforced."""

    max_connections: int = 100
    max_keepalive_connections: int = 20
    keepalive_expiry: float = 30.0


@dataclass(frozen=True, slots=True)
class OpenAIOptions:
    """One OpenAI-compatible provider. ``extra_headers`` may carry credentials, so it stays out
    of the repr; ``max_body_bytes`` bounds a reply body and each streamed event."""

    name: str
    base_url: str
    api_key: Secret | None = None
    flavour: Flavour = Flavour.OPENAI
    azure_deployment: str | None = None
    azure_api_version: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    pool: Pool = field(default_factory=Pool)
    extra_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    max_body_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.flavour is Flavour.AZURE and not (self.azure_deployment and
                                                  self.azure_api_version):
            raise ValueError(f"upstream {self.name}: azure needs a deployment and an api version")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"upstream {self.name}: base_url must be an http(s) URL")


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """``slow_seconds`` is how long a ``[simulate:slow]`` request stalls."""

    name: str = "simulator"
    slow_seconds: float = 2.0

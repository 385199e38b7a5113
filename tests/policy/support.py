"""Helpers for the policy tests: principals, requests, a resource catalogue, policy directories."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import cedarpy

from ztai.core.model import (
    GATEWAY,
    Action,
    Principal,
    PrincipalId,
    PrincipalKind,
    Resource,
    ResourceKind,
)
from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.interface import AuthzRequest
from ztai.policy.loader import load_policies
from ztai.policy.model import ResourceEntity

CONTEXT = {"route": "/v1/chat/completions", "stream": False}

MODELS = {
    "gpt-internal": "internal",
    "gpt-sanctioned": "sanctioned",
    "gpt-consumer": "consumer",
}


def model(name: str) -> Resource:
    return Resource(ResourceKind.MODEL, name)


def catalogue() -> list[ResourceEntity]:
    return [
        ResourceEntity(model(name), {"upstream": "openai", "tier": tier})
        for name, tier in MODELS.items()
    ]


def user(
    name: str = "alice",
    groups: tuple[str, ...] = (),
    tags: Mapping[str, str] | None = None,
    kind: PrincipalKind = PrincipalKind.USER,
) -> Principal:
    return Principal(PrincipalId(name), kind, frozenset(groups), dict(tags or {}), "api_key")


def ask(
    principal: Principal, action: Action = Action.INVOKE_MODEL, resource: Resource | None = None
) -> AuthzRequest:
    target = resource or (GATEWAY if action is Action.LIST_MODELS else model("gpt-sanctioned"))
    return AuthzRequest(principal, action, target, CONTEXT)


@dataclass
class PolicyDir:
    """A policy directory whose every write gets a fresh mtime, so fingerprints always move."""

    path: Path
    ticks: Iterator[int]

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.write_text(text, encoding="utf-8")
        tick = next(self.ticks)
        os.utime(target, ns=(tick, tick))
        return target

    def authorizer(self, schema: cedarpy.Schema) -> CedarAuthorizer:
        return CedarAuthorizer(load_policies(self.path, schema), catalogue())

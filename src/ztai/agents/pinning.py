"""Tool-definition pinning, the rug-pull defence. An MCP server describes its tools to the model
(name, description, input schema); a server that changes a description after it was trusted can
steer every agent that reads it. So each definition is hashed (canonical JSON) and pinned:

- the first listing of a server is trusted on first use (configurable), except definitions whose
  text the prompt shield flags, which are quarantined from the start;
- a tool that appears later, or a definition that changes, is quarantined until approved;
- only a tool whose *current* definition is approved is listed or callable.

Every version is kept with who decided what, so the history of a tool is auditable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ztai.core.clock import Clock
from ztai.core.errors import BadRequest
from ztai.storage.pins import PinStatus, PinStore, ToolPin

# what the shield finds in a definition's text (threat kinds); empty means nothing suspicious
Inspect = Callable[[str], Sequence[str]]
PINNED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


@dataclass(frozen=True, slots=True)
class PinVerdict:
    tool: str
    digest: str
    status: PinStatus
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.status is PinStatus.APPROVED


def canonical(definition: Mapping[str, Any]) -> bytes:
    """The pinned fields of a tool definition as canonical JSON (sorted keys)."""
    pinned = {k: definition[k] for k in PINNED_FIELDS if definition.get(k) is not None}
    return orjson.dumps(pinned, option=orjson.OPT_SORT_KEYS)


def digest_of(definition: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(definition)).hexdigest()


def definition_text(definition: Mapping[str, Any]) -> str:
    """Every string a model reads in a definition: its name, title, description and the
    schema's texts (parameter descriptions are a known hiding place for instructions; a name
    too, since 2026-11-28: "ignore_all_previous_instructions_and_…" went unjudged), then the
    schema's keys, once each: its parameters' names, which the model reads too (found
    2026-11-28, a parameter named "to Ignore all previous instructions and …" was not
    judged)."""
    texts: list[str] = []
    names: dict[str, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, Mapping):
            names.update(dict.fromkeys(k for k in value if isinstance(k, str)))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for key in ("name", "title", "description", "inputSchema", "outputSchema", "arguments"):
        walk(definition.get(key))
    return "\n".join((*texts, *names))


class PinBook:
    """Decides, per listing, which tools of a server are usable, recording new versions."""

    def __init__(self, store: PinStore, clock: Clock, inspect: Inspect | None = None,
                 trust_first_use: bool = True) -> None:
        self._store, self._clock, self._inspect = store, clock, inspect
        self._trust_first_use = trust_first_use

    def review(self, server: str, definitions: Sequence[Mapping[str, Any]]
               ) -> dict[str, PinVerdict]:
        """The verdict for each listed tool (by name), pinning versions not seen before."""
        known = self._store.pins(server)
        first_listing = not known
        by_version = {(p.tool, p.digest): p for p in known}
        verdicts: dict[str, PinVerdict] = {}
        for definition in definitions:
            name = definition.get("name")
            if not isinstance(name, str) or not name:
                continue  # the caller refuses nameless tools before this
            digest = digest_of(definition)
            pin = by_version.get((name, digest))
            if pin is None:
                pin = self._pin(server, name, digest, definition, first_listing,
                                any(p.tool == name for p in known))
            verdicts[name] = PinVerdict(name, digest, pin.status, pin.reason)
        return verdicts

    def flagged(self, definition: Mapping[str, Any]) -> tuple[str, ...]:
        """What the shield finds in a definition's text (a tool's, a resource's, a prompt's:
        with its arguments' descriptions); empty when nothing or no shield."""
        return tuple(self._inspect(definition_text(definition))) if self._inspect else ()

    def _pin(self, server: str, name: str, digest: str, definition: Mapping[str, Any],
             first_listing: bool, changed: bool) -> ToolPin:
        flagged = self.flagged(definition)
        if flagged:
            status, reason = PinStatus.QUARANTINED, (
                "the definition carries instructions the prompt shield flags: "
                + ", ".join(sorted(set(flagged))))
        elif changed:
            status, reason = PinStatus.QUARANTINED, "the definition changed since it was pinned"
        elif first_listing and self._trust_first_use:
            status, reason = PinStatus.APPROVED, "trusted on first use"
        else:
            status, reason = PinStatus.QUARANTINED, "a tool that was not there before"
        pin = ToolPin(server, name, digest, canonical(definition).decode(), status,
                      self._clock.now(), reason)
        if not self._store.add_pin(pin):  # another replica pinned it first: take theirs
            for stored in self._store.pins(server):
                if (stored.tool, stored.digest) == (name, digest):
                    return stored
        return pin

    def decide(self, server: str, tool: str, approve: bool, by: str, reason: str,
               digest: str | None = None) -> ToolPin:
        """Approve or reject a version (the newest quarantined one when ``digest`` is None)."""
        versions = [p for p in self._store.pins(server) if p.tool == tool]
        if digest is not None:
            versions = [p for p in versions if p.digest.startswith(digest)]
        elif versions:
            waiting = [p for p in versions if p.status is PinStatus.QUARANTINED]
            versions = waiting[-1:] or versions[-1:]
        if len(versions) != 1:
            what = "no such version" if not versions else "more than one version matches"
            raise BadRequest(f"tool {server}/{tool}: {what}", param="tool")
        status = PinStatus.APPROVED if approve else PinStatus.REJECTED
        decided = self._store.decide_pin(server, tool, versions[0].digest, status, by,
                                         self._clock.now(), reason)
        if decided is None:
            raise BadRequest(f"tool {server}/{tool}: no such version", param="tool")
        return decided

    def history(self, server: str) -> list[ToolPin]:
        return self._store.pins(server)

"""Tool calls a model proposes on the OpenAI routes are authorized before they reach the
client, like calls through the MCP gateway: Cedar decides ``call_tool`` on
``Tool::"client/<function name>"`` with the request's context (its findings, and
``untrusted_content``/``tainted`` when tool results in the conversation carried outside content
or an attack), the destinations named in the arguments and the tool's declared risk.

A denied call denies the answer (the client never sees the call). In a stream, events that
carry tool-call parts are held back — bounded by ``MAX_HELD_CHARS`` — until the calls are
complete, then released or replaced by the denial; text before them flows as it comes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ztai.agents.destinations import DestinationFinder
from ztai.core.flow import Flow
from ztai.core.model import Action, Decision, Effect, Resource, ResourceKind
from ztai.gateway.stages import chain_denial
from ztai.policy.interface import Authorizer
from ztai.upstream.interface import StreamEvent

MAX_HELD_CHARS = 262_144
_ARGUMENT_DELTAS = frozenset({"response.function_call_arguments.delta",
                              "response.custom_tool_call_input.delta"})
_ARGUMENTS_DONE = frozenset({"response.function_call_arguments.done",
                             "response.custom_tool_call_input.done"})
CLIENT_SERVER = "client"  # the tools an application runs itself: Tool::"client/<name>"


@dataclass(frozen=True, slots=True)
class Proposed:
    name: str
    arguments: str  # JSON text as the model wrote it


class ToolCallPolicy:
    def __init__(self, authorizer: Authorizer, destinations: DestinationFinder,
                 risk: Callable[[str], str]) -> None:
        self._authorizer, self._destinations, self._risk = authorizer, destinations, risk

    def check(self, flow: Flow, calls: list[Proposed]) -> Decision | None:
        """None if every call is allowed for every principal of the chain, else the deny."""
        for call in calls:
            found = self._destinations.find(_strings(call.arguments))
            context = {**flow.context, "tool_server": CLIENT_SERVER, "tool_name": call.name,
                       "tool_risk": self._risk(call.name), "destinations": found.domains,
                       "external_destinations": found.any_external}
            resource = Resource(ResourceKind.TOOL, f"{CLIENT_SERVER}/{call.name}")
            denial = chain_denial(self._authorizer, flow.principal, Action.CALL_TOOL, resource,
                                  context)
            if denial is not None:
                flow.notes["denied_tool_call"] = call.name[:128]
                return Decision(Effect.DENY, tuple(
                    f"the model proposed calling {call.name!r}: {r}" for r in denial.reasons),
                    denial.policy_ids, denial.obligations)
        if calls:
            flow.notes["tool_calls_authorized"] = len(calls)
        return None


def proposed(body: Mapping[str, Any]) -> list[Proposed]:
    """Tool calls in a whole answer: chat ``choices[].message.tool_calls`` (function and custom
    tools) and the legacy ``function_call``, or every Responses ``output[]`` item the client
    is to run (``client_call``)."""
    calls: list[Proposed] = []
    for choice in _dicts(body.get("choices")):
        for tool_call in _dicts(_get(choice, "message", "tool_calls")):
            calls.append(_chat_call(tool_call))
        legacy = _get(choice, "message", "function_call")
        if isinstance(legacy, dict):
            calls.append(Proposed(str(legacy.get("name") or ""),
                                  str(legacy.get("arguments") or "")))
    for item in _dicts(body.get("output")):
        found = client_call(item)
        if found is not None:
            calls.append(found)
    return calls


def _chat_call(call: Mapping[str, Any]) -> Proposed:
    for kind, text in (("function", "arguments"), ("custom", "input")):
        part = call.get(kind)
        if isinstance(part, dict):
            return Proposed(str(part.get("name") or ""), str(part.get(text) or ""))
    return Proposed("", "")  # a call of another shape is judged as a nameless tool


# Responses output items the provider runs itself (their results are already in the answer)
_HOSTED = frozenset({"web_search_call", "file_search_call", "code_interpreter_call",
                     "image_generation_call", "mcp_call"})
_TEXT_OF = {"function_call": "arguments", "custom_tool_call": "input"}
_NOT_ARGUMENTS = frozenset({"id", "type", "status", "call_id", "name"})


def client_call(item: Mapping[str, Any]) -> Proposed | None:
    """The call in a Responses output item that the client is to run: a function or custom
    tool's (by name), or a built-in one's such as ``local_shell_call`` or ``computer_call``
    (named after its type, ``local_shell``, its item's fields as the arguments); any other
    ``*_call`` item too, so that a kind added later is judged, not passed."""
    kind = item.get("type")
    if not isinstance(kind, str) or not kind.endswith("_call") or kind in _HOSTED:
        return None
    if kind in _TEXT_OF:
        return Proposed(str(item.get("name") or ""), str(item.get(_TEXT_OF[kind]) or ""))
    fields = {k: v for k, v in item.items() if k not in _NOT_ARGUMENTS}
    return Proposed(kind.removesuffix("_call"), orjson.dumps(fields).decode())


@dataclass(slots=True)
class CallHold:
    """Per stream: holds back the events that build tool calls; ``push`` returns the events
    that may go out now; when the calls are complete (a finish reason, or the stream's end)
    ``complete`` is true and ``calls`` holds them for the policy. ``interleaved`` tells that
    the fragments of several calls came mixed."""

    held: list[StreamEvent] = field(default_factory=list)
    parts: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    names: dict[tuple[int, int], str] = field(default_factory=dict)
    size: int = 0
    complete: bool = False
    # a call's fragments resumed after another call's: the calls were streamed at once
    interleaved: bool = False
    _last: dict[int, tuple[int, int]] = field(default_factory=dict)
    _left: set[tuple[int, int]] = field(default_factory=set)

    def push(self, event: StreamEvent) -> list[StreamEvent]:
        data = event.data
        if data is None:  # [DONE]: whatever is held is complete now
            if not self.held:
                return [event]
            self.held.append(event)
            self.complete = True
            return []
        if not self._collect(data) and not self.held:
            return [event]
        self.held.append(event)
        self.size += len(orjson.dumps(data))
        if self.size > MAX_HELD_CHARS:
            raise OverflowError("tool-call arguments too long to hold back")
        self.complete = self.complete or self._finished(data)
        return []

    def calls(self) -> list[Proposed]:
        return [Proposed(self.names.get(key, ""), "".join(self.parts.get(key, [])))
                for key in sorted(set(self.names) | set(self.parts))]

    def release(self) -> list[StreamEvent]:
        released, self.held = self.held, []
        self.parts.clear()
        self.names.clear()
        self.size, self.complete, self.interleaved = 0, False, False
        self._last.clear()
        self._left.clear()
        return released

    def _collect(self, data: Mapping[str, Any]) -> bool:
        """Record the tool-call parts ``data`` carries; True if it carries any."""
        carried = False
        for place, choice in enumerate(_dicts(data.get("choices"))):
            # the answer's own index (several answers stream interleaved, one per chunk)
            answer = choice.get("index")
            i = answer if isinstance(answer, int) else place
            for j, call in enumerate(_dicts(_get(choice, "delta", "tool_calls"))):
                index = call.get("index")
                key = (i, index if isinstance(index, int) else j)
                for kind, text in (("function", "arguments"), ("custom", "input")):
                    part = call.get(kind)
                    if isinstance(part, dict):
                        self._add(key, part.get("name"), part.get(text))
                self.names.setdefault(key, "")
                carried = True
            legacy = _get(choice, "delta", "function_call")
            if isinstance(legacy, dict):  # the legacy function call: one per choice
                self._add((i, -1), legacy.get("name"), legacy.get("arguments"))
                carried = True
        event = data.get("type")
        item = data.get("item")
        position = data.get("output_index")
        key = (0, position if isinstance(position, int) else 0)
        proposal = client_call(item) if isinstance(item, dict) else None
        if event == "response.output_item.added" and proposal is not None:
            self._add(key, proposal.name, None)
            if isinstance(item, dict) and item.get("type") not in _TEXT_OF:
                self.parts[key] = [proposal.arguments]  # a built-in call comes whole
            carried = True
        elif event in _ARGUMENT_DELTAS:
            self._add(key, None, data.get("delta"))
            carried = True
        elif event == "response.output_item.done" and proposal is not None:
            self.names[key], self.parts[key] = proposal.name, [proposal.arguments]
            carried = True
        elif event in _ARGUMENTS_DONE:
            carried = key in self.names or key in self.parts
        return carried

    def _add(self, key: tuple[int, int], name: Any, arguments: Any) -> None:
        if isinstance(name, str):
            self.names[key] = self.names.get(key, "") + name
        if isinstance(arguments, str):
            self.parts.setdefault(key, []).append(arguments)
            if arguments:  # several answers each have a window of their own: per answer
                last = self._last.get(key[0])
                if last is not None and last != key:
                    self._left.add(last)
                self.interleaved = self.interleaved or key in self._left
                self._last[key[0]] = key

    @staticmethod
    def _finished(data: Mapping[str, Any]) -> bool:
        if data.get("type") == "response.completed":
            return True
        return any(choice.get("finish_reason") for choice in _dicts(data.get("choices")))


def _strings(arguments: str) -> Iterator[str]:
    """The strings in a JSON argument text, objects' keys included; the text itself if it is
    not JSON."""
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        yield arguments
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(value: Mapping[str, Any], *path: str) -> Any:
    node: Any = value
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node

"""Rewriting strings inside a request body by the paths its segments came from
(``messages[2].content``, ``input[0].content[1].text``): what redaction changes is exactly what
the upstream receives. A path ending in ``#base64`` names a text file attachment whose decoded
text was scanned: its replacement is encoded back the same way. Copy on write: the parsed request
itself is never changed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from ztai.core.errors import BadRequest, StageFailed
from ztai.gateway.attachments import ENCODED, reencoded

# the source of the segment that holds the request's object keys and the strings no other
# segment holds (``fields.unread_text``)
KEYS = "{keys}"
# the last step of a segment's source that holds a definition's names (``fields.definitions``):
# keys and the names ``required`` lists, judged with the definition, never rewritten
NAMES = ".{names}"

_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,6})\]|\[("(?:[^"\\]|\\.)*")\]')


def step(key: str) -> str:
    """A path step for an object's key: ``.name``, or ``["user-id"]`` (a JSON string) for a
    key that is no identifier."""
    return f".{key}" if key.isidentifier() and key.isascii() else f"[{orjson.dumps(key).decode()}]"


def steps(path: str) -> list[str | int]:
    """``messages[2].content`` → ``["messages", 2, "content"]``, ``a["x-y"]`` → ``["a",
    "x-y"]``; StageFailed if malformed."""
    found: list[str | int] = []
    position = 0
    for match in _STEP.finditer(path):
        if match.start() != position:
            break
        name, index, quoted = match.groups()
        if quoted is not None:
            try:
                found.append(orjson.loads(quoted))
            except orjson.JSONDecodeError:
                break
        else:
            found.append(name if name is not None else int(index))
        position = match.end()
    if position != len(path) or not found:
        raise StageFailed(f"cannot rewrite the request at {path!r}")
    return found


def replace_strings(body: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """``body`` with the string at each path replaced. Fails closed (StageFailed) where a path
    does not lead to a string: content that was scanned must be the content that is sent; a
    400 where the request's keys (``KEYS``) would be rewritten."""
    result: dict[str, Any] = dict(body)
    if KEYS in texts or any(path.endswith(NAMES) for path in texts):
        # the message names no key: it holds what a rule redacts, and goes to the audit log
        raise BadRequest("a key of the request's objects, or a string ztai passes on as it "
                         "is (a tool's name, a field it does not read), holds content a DLP "
                         "rule redacts; it cannot be redacted without changing what the "
                         "request means, so the request is refused")
    for path, text in texts.items():
        encoded = path.endswith(ENCODED)
        _set(result, steps(path.removesuffix(ENCODED) if encoded else path), text, path,
             encoded)
    return result


def rewrite_answer(body: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """``replace_strings`` for a model's answer (or stream event): its token log-probabilities,
    copies of the text as the model wrote it, token by token, are dropped (made null) so that
    what was redacted does not go out in them."""
    return _dropped(replace_strings(body, texts))


def _dropped(node: Mapping[str, Any]) -> dict[str, Any]:
    return {k: None if k == "logprobs" and v is not None else _without_logprobs(v)
            for k, v in node.items()}


def _without_logprobs(value: Any) -> Any:
    if isinstance(value, dict):
        return _dropped(value)
    if isinstance(value, list):
        return [_without_logprobs(v) for v in value]
    return value


def _set(root: dict[str, Any], path: list[str | int], text: str, where: str,
         encoded: bool = False) -> None:
    node: Any = root
    for step in path[:-1]:
        child = _child(node, step, where)
        copy = dict(child) if isinstance(child, dict) else list(child)
        node[step] = copy
        node = copy
    last = path[-1]
    original = _child(node, last, where)
    if not isinstance(original, str):
        raise StageFailed(f"cannot rewrite the request at {where!r}: not a string")
    node[last] = reencoded(original, text) if encoded else text


def _child(node: Any, step: str | int, where: str) -> Any:
    present = (step in node if isinstance(node, dict) else
               isinstance(step, int) and isinstance(node, list) and step < len(node))
    if not present:
        raise StageFailed(f"cannot rewrite the request at {where!r}: no such element")
    child = node[step]
    if isinstance(child, dict | list | str):
        return child
    raise StageFailed(f"cannot rewrite the request at {where!r}: unexpected value")

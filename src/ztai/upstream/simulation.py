"""What the simulator says, as pure functions: the trigger words it obeys, its reply text,
deterministic ids, whitespace token counts and the tool call a prompt asks for."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import orjson

FINGERPRINT = "ztai-simulator"
QUOTED_WORDS = 8
TOOL_PHRASE = "call tool "


class Trigger(StrEnum):
    """Words in the last user message that make the simulator misbehave, for tests."""

    ERROR500 = "[simulate:error500]"
    """The provider fails with HTTP 500 (an ``UpstreamError`` 502 through an upstream)."""
    ERROR429 = "[simulate:error429]"
    """The provider rate-limits with HTTP 429."""
    SLOW = "[simulate:slow]"
    """The reply (or a stream, after its first event) stalls for ``slow_seconds``."""


class SimulatedFailure(Exception):
    """A failure the simulated provider answers with: its HTTP status and OpenAI error body."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        kind = "invalid_request_error" if status < 500 and status != 429 else "server_error"
        self.body = {"error": {"message": message, "type": kind, "param": None, "code": code}}

    def content(self) -> bytes:
        return orjson.dumps(self.body)


def invalid(message: str) -> SimulatedFailure:
    return SimulatedFailure(400, message, "invalid_request_error")


def find_trigger(prompt: str) -> Trigger | None:
    return next((trigger for trigger in Trigger if trigger.value in prompt), None)


def failure_for(trigger: Trigger | None) -> SimulatedFailure | None:
    if trigger is Trigger.ERROR500:
        return SimulatedFailure(500, "the simulator failed on purpose", "server_error")
    if trigger is Trigger.ERROR429:
        return SimulatedFailure(429, "the simulator is rate limiting on purpose", "rate_limit")
    return None


def reply_text(prompt: str) -> str:
    words = prompt.split()
    quoted = " ".join(words[:QUOTED_WORDS]) + ("…" if len(words) > QUOTED_WORDS else "")
    plural = "" if len(words) == 1 else "s"
    return (f"[ztai simulator] This is a simulated reply. "
            f'You said {len(words)} word{plural}: "{quoted}"')


def pieces(text: str, words_per_piece: int = 3) -> list[str]:
    """``text`` cut into stream deltas that join back to exactly ``text``."""
    words = text.split(" ")
    groups = [" ".join(words[i:i + words_per_piece])
              for i in range(0, len(words), words_per_piece)]
    return [group if i == 0 else " " + group for i, group in enumerate(groups)]


def count_tokens(*texts: str) -> int:
    return sum(len(text.split()) for text in texts)


def id_for(prefix: str, body: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(orjson.dumps(dict(body), option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{prefix}sim{digest[:24]}"


def model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("you must provide a model parameter")
    return model


def text_of(content: object) -> str:
    """The text of message content: a string, or a list of text parts (chat or Responses)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part["text"] for part in content if isinstance(part, dict)
                        and part.get("type") in ("text", "input_text", "output_text")
                        and isinstance(part.get("text"), str))
    return ""


def requested_tool(prompt: str, declared: Sequence[str]) -> tuple[str, str] | None:
    """``(name, arguments JSON)`` when the prompt says ``call tool NAME [with {json}]`` and
    NAME is a declared tool."""
    at = prompt.lower().find(TOOL_PHRASE)
    rest = prompt[at + len(TOOL_PHRASE):].strip() if at >= 0 else ""
    name = rest.split(maxsplit=1)[0].rstrip(".,;:!?") if rest else ""
    if not name or name not in declared:
        return None
    tail = rest[len(name):].strip().rstrip(".")
    return name, _arguments(tail.removeprefix("with ").strip())


def _arguments(text: str) -> str:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "{}"
    return orjson.dumps(value).decode() if isinstance(value, dict) else "{}"

"""The error tree. An exception means "could not decide"; the pipeline runner turns it into a deny.

Each error carries an OpenAI-style ``code`` and a message that is safe to show to the caller
(never a secret, never raw content). The gateway maps error classes to HTTP statuses.
"""

from __future__ import annotations

import traceback


class ZtaiError(Exception):
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class BadRequest(ZtaiError):
    """The caller sent something malformed: wrong JSON, wrong types, missing fields."""

    code = "invalid_request_error"


class PayloadTooLarge(BadRequest):
    code = "payload_too_large"


class UnknownModel(BadRequest):
    code = "model_not_found"


class NotFound(BadRequest):
    """What the caller names does not exist for it (an MCP session of another principal)."""

    code = "not_found"


class MethodNotAllowed(BadRequest):
    """The path exists, but not for this HTTP method."""

    code = "method_not_allowed"


class ProtocolRefusal(BadRequest):
    """A protocol layer ztai serves through (the MCP SDK's server) refused the request before
    any operation ran: recorded as such, answered with that layer's own error."""

    code = "protocol_error"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationFailed(ZtaiError):
    """No credential, or one that is unknown, malformed, revoked or expired."""

    code = "invalid_api_key"


class StageFailed(ZtaiError):
    """A pipeline stage could not complete; the runner denies."""

    code = "stage_failed"


class StoreUnavailable(ZtaiError):
    code = "store_unavailable"


class UpstreamError(ZtaiError):
    """The model provider failed. ``status`` is the status the gateway should return."""

    code = "upstream_error"

    def __init__(self, message: str, *, status: int = 502, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


def where_it_failed(exc: BaseException) -> str:
    """Where ``exc`` and the exceptions it chained were raised: each one's type and its frames
    (file, line, function, source line), for a log — never their messages, which may quote what
    failed to parse (``int()`` of a request's value, a ``KeyError`` naming a key): no content of
    a request goes to the log unless configured."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__} (message withheld)")
        lines += [f"  {frame.filename}:{frame.lineno} in {frame.name}: {frame.line or ''}"
                  for frame in traceback.extract_tb(current.__traceback__)]
        current = current.__cause__ or current.__context__
    return "\n".join(lines)

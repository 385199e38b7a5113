"""How a provider's failure becomes an ``UpstreamError``: the status the gateway returns and a
message safe to show a client (never the gateway's key, never a raw provider body)."""

from __future__ import annotations

from typing import Any

import orjson

from ztai.core.errors import UpstreamError
from ztai.core.secret import Secret
from ztai.upstream.http1 import HttpError, ProtocolError

MAX_MESSAGE_CHARS = 500
INVALID_REQUEST_STATUSES = frozenset({400, 404, 409, 413, 415, 422})
AUTH_STATUSES = frozenset({401, 403})
_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
TRANSPORT_ERRORS = (HttpError, TimeoutError)
"""What talking to a provider over the HTTP/1.1 client raises."""


def error_for_status(status: int, body: bytes, name: str, key: Secret | None) -> UpstreamError:
    """The error for a provider's non-2xx reply. Only a rejected request (400, 404, 422...)
    passes the provider's own message on, truncated and with the gateway's key blanked out."""
    if status == 429:
        return UpstreamError(f"upstream {name} is rate limiting the gateway",
                             status=429, code="upstream_rate_limited")
    if status in AUTH_STATUSES:
        return UpstreamError(f"upstream {name} rejected the gateway's credentials",
                             status=502, code="upstream_auth_failed")
    if status == 408:
        return timed_out(name)
    if status in INVALID_REQUEST_STATUSES:
        return _rejected(provider_error(parse_object(body)), name, key)
    return UpstreamError(f"upstream {name} failed with status {status}",
                         status=502, code="upstream_error")


def error_for_transport(exc: HttpError | TimeoutError, name: str) -> UpstreamError:
    """The error for a failure to talk to the provider at all: any timeout (pool, connect,
    write, read, whole call) is a 504, broken HTTP (malformed, over a limit, a body that will
    not decode) a bad response, the rest (refused, reset, unknown host, TLS) unavailable."""
    if isinstance(exc, TimeoutError):
        return timed_out(name)
    if isinstance(exc, ProtocolError):
        return bad_response(name, str(exc))
    return UpstreamError(f"upstream {name} is unavailable", status=502,
                         code="upstream_unavailable")


def error_in_stream(error: dict[str, Any], name: str, key: Secret | None) -> UpstreamError:
    """The error for an error event the provider sent in the middle of a stream."""
    message = _safe(error.get("message"), key) or "the stream failed"
    return UpstreamError(f"upstream {name} failed mid-stream: {message}", status=502,
                         code="upstream_error")


def timed_out(name: str) -> UpstreamError:
    return UpstreamError(f"upstream {name} timed out", status=504, code="upstream_timeout")


def bad_response(name: str, why: str) -> UpstreamError:
    return UpstreamError(f"upstream {name} sent a bad response: {why}", status=502,
                         code="upstream_bad_response")


def parse_object(body: bytes | str) -> dict[str, Any] | None:
    """The JSON object in ``body``, or None when it is not JSON or not an object."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def provider_error(body: dict[str, Any] | None) -> dict[str, Any]:
    """The ``error`` member of an OpenAI-shaped error body, or an empty dict."""
    error = body.get("error") if body is not None else None
    return error if isinstance(error, dict) else {}


def _rejected(error: dict[str, Any], name: str, key: Secret | None) -> UpstreamError:
    message = _safe(error.get("message"), key)
    code = error.get("code")
    safe_code = code if isinstance(code, str) and _is_plain_code(code) else None
    return UpstreamError(message or f"upstream {name} rejected the request", status=400,
                         code=safe_code or "upstream_invalid_request")


def _safe(message: object, key: Secret | None) -> str | None:
    if not isinstance(message, str) or not message.strip():
        return None
    if key is not None and key.reveal():
        message = message.replace(key.reveal(), "***")
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "…"


def _is_plain_code(code: str) -> bool:
    return 0 < len(code) <= 64 and set(code) <= _CODE_CHARS

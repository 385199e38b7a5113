"""Errors in the OpenAI wire format. The one place that maps ztai's error tree to statuses."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from ztai.core.errors import (
    AuthenticationFailed,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ProtocolRefusal,
    UnknownModel,
    UpstreamError,
    ZtaiError,
)

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def status_of(error: ZtaiError) -> int:
    match error:
        case PayloadTooLarge():
            return 413
        case UnknownModel() | NotFound():
            return 404
        case MethodNotAllowed():
            return 405
        case ProtocolRefusal():
            return error.status
        case BadRequest():
            return 400
        case AuthenticationFailed():
            return 401
        case UpstreamError():
            return error.status
        case _:
            return 503


def error_body(status: int, message: str, code: str, param: str | None = None) -> bytes:
    kind = _TYPES.get(status, "api_error" if status < 503 else "service_unavailable_error")
    return orjson.dumps(
        {"error": {"message": message, "type": kind, "param": param, "code": code}}
    )


def error_response(status: int, message: str, code: str, param: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("www-authenticate", 'Bearer realm="ztai"')
    return Response(error_body(status, message, code, param), status,
                    headers=all_headers, media_type="application/json")

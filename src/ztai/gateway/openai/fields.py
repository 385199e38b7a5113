"""Typed reads of untrusted JSON. Each failure is a ``BadRequest`` naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ztai.core.errors import BadRequest


def parse_object(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object (UTF-8)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid UTF-8 JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object")
    return value


def req_str(obj: Mapping[str, Any], name: str, where: str = "") -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{where}{name}' is required and must be a non-empty string",
                         param=f"{where}{name}")
    return value


def opt_str(obj: Mapping[str, Any], name: str, where: str = "") -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{where}{name}' must be a string", param=f"{where}{name}")
    return value


def opt_bool(obj: Mapping[str, Any], name: str, where: str = "") -> bool:
    value = obj.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"'{where}{name}' must be a boolean", param=f"{where}{name}")
    return value


def opt_object(obj: Mapping[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"'{where}{name}' must be an object", param=f"{where}{name}")
    return value


def req_list(obj: Mapping[str, Any], name: str, limit: int, where: str = "") -> list[Any]:
    value = obj.get(name)
    if not isinstance(value, list) or not value:
        raise BadRequest(f"'{where}{name}' is required and must be a non-empty array",
                         param=f"{where}{name}")
    if len(value) > limit:
        raise BadRequest(f"'{where}{name}' has more than {limit} items", param=f"{where}{name}")
    return value


def as_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"'{where}' must be an object", param=where)
    return value

"""``POST /v1/embeddings``: each input string is a segment; token arrays cannot be scanned and
are recorded as such. Fields ztai does not know, and the request's keys, are read by data
protection as on the chat and Responses routes."""

from __future__ import annotations

from typing import Any

from ztai.core.errors import BadRequest
from ztai.core.model import Action, Exchange, ExchangeId, Resource, ResourceKind, Role, Segment
from ztai.gateway.catalog import Catalog
from ztai.gateway.openai.fields import parse_object, req_str, unread_segments
from ztai.gateway.plan import Plan, TextlessReader
from ztai.upstream.interface import Endpoint, UpstreamCall

MAX_INPUTS = 2048
_KNOWN = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


def translate_embeddings(body: bytes, catalog: Catalog, exchange_id: ExchangeId) -> Plan:
    request = parse_object(body)
    model = req_str(request, "model")
    inputs, unscanned = _inputs(request.get("input"))
    segments = (*inputs, *unread_segments(request, _KNOWN, inputs))
    target = catalog.route(model)
    exchange = Exchange(
        id=exchange_id,
        route="embeddings",
        action=Action.EMBED,
        resource=Resource(ResourceKind.MODEL, model),
        segments=segments,
        signals={"unscanned_parts": unscanned},
    )
    call = UpstreamCall(Endpoint.EMBEDDINGS, {**request, "model": target.upstream_model})
    return Plan(exchange, TextlessReader(), call, target)


def _inputs(value: Any) -> tuple[tuple[Segment, ...], int]:
    if isinstance(value, str):
        return (Segment(Role.USER, value, "input"),), 0
    if not isinstance(value, list) or not value or len(value) > MAX_INPUTS:
        raise BadRequest(f"'input' must be a string or an array of 1 to {MAX_INPUTS} items",
                         param="input")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (), 1  # one token array
    segments, unscanned = [], 0
    for i, item in enumerate(value):
        if isinstance(item, str):
            segments.append(Segment(Role.USER, item, f"input[{i}]"))
        elif isinstance(item, list) and all(isinstance(v, int) for v in item):
            unscanned += 1
        else:
            raise BadRequest(f"'input[{i}]' must be a string or an array of token ids",
                             param=f"input[{i}]")
    return tuple(segments), unscanned

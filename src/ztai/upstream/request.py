"""What a request to an OpenAI-compatible provider looks like, per flavour: the URL for each
endpoint, the headers that carry the key, and the JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson
from yarl import URL

from ztai.upstream.interface import Endpoint
from ztai.upstream.model import Flavour, OpenAIOptions

USER_AGENT = "ztai"


def request_body(body: Mapping[str, Any], stream: bool) -> bytes:
    """The JSON body; a streamed call always asks for a stream, a whole one never does."""
    sent = dict(body)
    if stream:
        sent["stream"] = True
    else:  # a non-streamed call must not ask the provider to stream
        sent.pop("stream", None)
        sent.pop("stream_options", None)
    return orjson.dumps(sent)


def endpoint_url(options: OpenAIOptions, endpoint: Endpoint) -> URL:
    """``{base_url}/{endpoint}``, or Azure's deployment path with its ``api-version``."""
    base = options.base_url.rstrip("/")
    if options.flavour is Flavour.OPENAI:
        return URL(f"{base}/{endpoint.value}")
    if endpoint is Endpoint.RESPONSES:  # Azure names the deployment in the body's model
        path = "openai/responses"
    else:
        path = f"openai/deployments/{quote(options.azure_deployment or '', safe='')}/{endpoint}"
    return URL(f"{base}/{path}").update_query({"api-version": options.azure_api_version or ""})


def request_headers(options: OpenAIOptions, stream: bool) -> dict[str, str]:
    """The extra headers, the key (``Authorization: Bearer`` or Azure's ``api-key``), and the
    content type. The result holds the key in clear: keep it out of logs and reprs."""
    headers = dict(options.extra_headers)
    if options.api_key is not None and options.flavour is Flavour.AZURE:
        headers["api-key"] = options.api_key.reveal()
    elif options.api_key is not None:
        headers["authorization"] = f"Bearer {options.api_key.reveal()}"
    if not any(name.lower() == "user-agent" for name in headers):
        headers["user-agent"] = USER_AGENT
    headers["content-type"] = "application/json"
    headers["accept"] = "text/event-stream" if stream else "application/json"
    return headers

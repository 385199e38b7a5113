"""A minimal asyncio HTTP/1.1 client for configured upstreams, on ``httptools`` (llhttp)."""

from ztai.upstream.http1.client import Http1Client, Response
from ztai.upstream.http1.errors import ConnectError, ConnectionClosed, HttpError, ProtocolError
from ztai.upstream.http1.model import Origin, PreparedRequest, prepare_post

__all__ = ["ConnectError", "ConnectionClosed", "Http1Client", "HttpError", "Origin",
           "PreparedRequest", "ProtocolError", "Response", "prepare_post"]

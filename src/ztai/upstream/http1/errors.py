"""What the HTTP/1.1 client raises besides ``TimeoutError`` (any pool, connect, write, read or
total timeout). Messages name no header and no body, so they are safe to log and to show."""

from __future__ import annotations


class HttpError(Exception):
    """Talking to the server failed."""


class ConnectError(HttpError):
    """No connection could be opened: refused, unreachable, unknown host, or a TLS failure."""


class ConnectionClosed(HttpError):
    """The server closed or reset the connection before the response was complete."""


class ProtocolError(HttpError):
    """The server broke HTTP/1.1 or a limit: a malformed or oversized head, too many headers,
    bytes nobody asked for, or a body that cannot be decoded."""

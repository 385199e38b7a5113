"""Preparing a request: the origin and head built from a URL and headers, and every way a URL or
header could break the framing or leak a credential refused up front."""

from __future__ import annotations

import pytest

from ztai.upstream.http1 import Origin, prepare_post

KEY = "sk-very-secret"


def test_a_request_head_names_its_host_and_path_and_asks_for_no_coding() -> None:
    request = prepare_post("http://llm.example:8080/v1/chat?api-version=1",
                           {"authorization": f"Bearer {KEY}", "x-org": "acme"})
    assert request.origin == Origin("http", "llm.example", 8080)
    assert request.head == (b"POST /v1/chat?api-version=1 HTTP/1.1\r\n"
                            b"host: llm.example:8080\r\nauthorization: Bearer sk-very-secret\r\n"
                            b"x-org: acme\r\naccept-encoding: identity\r\n")
    assert KEY not in repr(request)


@pytest.mark.parametrize(("url", "origin", "host"), [
    ("https://LLM.example/v1", Origin("https", "llm.example", 443), b"host: llm.example\r\n"),
    ("http://[::1]:9000/v1", Origin("http", "::1", 9000), b"host: [::1]:9000\r\n"),
    ("http://10.0.0.1", Origin("http", "10.0.0.1", 80), b"host: 10.0.0.1\r\n"),
])
def test_origins_and_host_headers(url: str, origin: Origin, host: bytes) -> None:
    request = prepare_post(url, {})
    assert request.origin == origin
    assert host in request.head


@pytest.mark.parametrize("url", [
    "ftp://llm.example/v1", "http:///v1", "https://user:pw@llm.example/v1",
    "http://llm.example/v 1", "http://llm.example/v1\r\nx-injected: 1",
])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ per case
        prepare_post(url, {})


@pytest.mark.parametrize(("name", "value"), [
    ("x-evil", f"{KEY}\r\nx-injected: 1"), ("x-evil", f"{KEY}\n"), ("x-evil", "a\x00b"),
    ("x evil", "v"), ("x-evil:", "v"), ("", "v"), ("x-unicode", "caf\u20ac"),
    ("Host", "other.example"), ("content-length", "0"), ("Transfer-Encoding", "chunked"),
    ("connection", "close"), ("expect", "100-continue"), ("accept-encoding", "br"),
])
def test_headers_that_could_break_the_framing_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011 - the messages differ per case
        prepare_post("http://llm.example/v1", {name: value})
    assert KEY not in str(caught.value)

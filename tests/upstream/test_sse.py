"""The SSE decoder against the WHATWG rules, in every chunking, and the encoder round trip."""

from __future__ import annotations

import orjson
import pytest

from ztai.core.errors import UpstreamError
from ztai.upstream.interface import StreamEvent
from ztai.upstream.sse import ServerSentEvent, SseDecoder, encode_event

LIMIT = 1024


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SseDecoder(LIMIT)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.finish()


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"data: a\n\n", [ServerSentEvent("a")]),
        (b"data: a\r\n\r\n", [ServerSentEvent("a")]),
        (b"data: a\r\r", [ServerSentEvent("a")]),
        (b"data: {\"x\":\ndata: 1}\n\n", [ServerSentEvent('{"x":\n1}')]),
        (b": keep-alive\n\ndata: a\n: inside\n\n", [ServerSentEvent("a")]),
        (b"event: response.created\ndata: {}\n\n", [ServerSentEvent("{}", "response.created")]),
        (b"event: ping\n\ndata: a\n\n", [ServerSentEvent("a")]),
        (b"data:a\n\ndata:  b\n\n", [ServerSentEvent("a"), ServerSentEvent(" b")]),
        (b"id: 7\nretry: 10\nfoo: bar\ndata\n\n", [ServerSentEvent("")]),
        (b"\xef\xbb\xbfdata: a\n\n", [ServerSentEvent("a")]),
        (b"data: a\n\ndata: unterminated\n", [ServerSentEvent("a")]),
        (b"data: caf\xc3\xa9\n\n", [ServerSentEvent("café")]),
    ],
    ids=["lf", "crlf", "cr", "multi-line", "comments", "event-name", "event-without-data",
         "no-space", "other-fields", "bom", "unterminated", "utf8"],
)
def test_decodes_the_same_events_in_any_chunking(wire: bytes,
                                                 expected: list[ServerSentEvent]) -> None:
    assert decode(wire) == expected
    assert decode(*(wire[i:i + 1] for i in range(len(wire)))) == expected
    for cut in range(len(wire)):
        assert decode(wire[:cut], wire[cut:]) == expected


def test_a_lone_cr_at_a_chunk_end_waits_for_a_possible_lf() -> None:
    decoder = SseDecoder(LIMIT)
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r\n") == [ServerSentEvent("a")]


@pytest.mark.parametrize("wire", [b"data: " + b"x" * LIMIT + b"\n\n", b"data: " + b"x" * LIMIT,
                                  b"data: x\n" * (LIMIT // 2 + 1)])
def test_an_oversized_event_or_line_is_refused(wire: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        decode(wire)
    assert (caught.value.status, caught.value.code) == (502, "upstream_bad_response")


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(UpstreamError, match="not UTF-8"):
        decode(b"data: \xff\n\n")


@pytest.mark.parametrize("event", [StreamEvent({"a": "b\nc"}), StreamEvent(None),
                                   StreamEvent({"type": "x"}, "response.created")])
def test_encoded_events_decode_back(event: StreamEvent) -> None:
    (decoded,) = decode(encode_event(event))
    assert decoded.event == event.event
    if event.data is None:
        assert decoded.data == "[DONE]"
    else:
        assert orjson.loads(decoded.data) == event.data


def test_an_event_name_with_a_line_break_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_event(StreamEvent({}, "a\ndata: injected"))

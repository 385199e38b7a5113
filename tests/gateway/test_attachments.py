"""Which attachments ztai decodes and scans (text files, UTF-8 or UTF-16) and how a redaction
is encoded back: the same data URL header, the same byte order mark, bare base64 where it came
bare."""

from __future__ import annotations

import base64

import pytest

from ztai.core.errors import StageFailed
from ztai.gateway.attachments import decoded_text, reencoded
from ztai.gateway.openai.paths import replace_strings


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


KEY = "AWS_KEY=AKIAZ3MZQ7YWRT4XPLNV\n"
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(("value", "media_type", "filename", "text"), [
    (f"data:text/plain;base64,{b64(KEY.encode())}", None, None, KEY),
    (f"data:text/csv;charset=UTF-8;base64,{b64(b'a,b')}", None, "x.pdf", "a,b"),
    (f"data:application/json;base64,{b64(b'{}')}", None, None, "{}"),
    (f"data:application/vnd.api+json;base64,{b64(b'{}')}", None, None, "{}"),
    (f"data:application/octet-stream;base64,{b64(KEY.encode())}", None, ".env", KEY),
    (f"data:;base64,{b64(b'notes')}", None, "notes.MD", "notes"),
    (b64(KEY.encode()), None, "prod.env", KEY),
    (b64(b"plain"), "text/plain", None, "plain"),
    (b64(b"key"), None, "deploy/Dockerfile", "key"),
    ("data:text/plain,caf%C3%A9%20ok", None, None, "café ok"),
    (b64(BOM + b"with bom"), "text/markdown", None, "with bom"),
    (" ".join([b64(b"split"), ""]) + "\n", "text/plain", None, "split"),
    (f"data:application/pdf;base64,{b64(b'%PDF-1.4')}", None, "notes.txt", None),
    (f"data:image/png;base64,{b64(b'PNG')}", None, None, None),
    (f"data:text/plain;charset=latin-1;base64,{b64('é'.encode('latin-1'))}", None, None, None),
    ("data:text/plain;base64," + b64(b"\xc3\x28 bad"), None, None, None),
    (b64(b"\xff\xfe" + KEY.encode("utf-16-le")), None, "out.env", KEY),
    (b64(b"\xfe\xff" + KEY.encode("utf-16-be")), "text/plain", None, KEY),
    (b64(KEY.encode("utf-16-le")), None, "out.env", KEY),
    (b64(KEY.encode("utf-16-be")), None, "out.env", KEY),
    (b64(b"text\x00with\x00\x00zeros\x01"), "text/plain", None, None),
    ("data:text/plain;base64,not*base64", None, None, None),
    ("data:text/plain;base64", None, None, None),
    (b64(b"text"), None, None, None),
    (b64(b"text"), "application/octet-stream", "archive.zip", None),
    ("file-abc123", None, "notes.txt", None),
], ids=["text", "charset utf-8, type over name", "json", "+json", "octets named .env",
        "no type, markdown name", "bare, named .env", "bare, typed", "name without dot",
        "percent-encoded", "byte order mark", "whitespace in base64", "pdf named .txt", "image",
        "latin-1", "not utf-8", "utf-16 le marked", "utf-16 be marked", "utf-16 le unmarked",
        "utf-16 be unmarked", "zero bytes", "not base64", "no comma", "bare, unnamed", "zip",
        "a file id is no data"])
def test_only_text_files_are_decoded(value: str, media_type: str | None,
                                          filename: str | None, text: str | None) -> None:
    assert decoded_text(value, media_type, filename) == text


@pytest.mark.parametrize("original", [
    f"data:text/plain;charset=utf-8;base64,{b64(KEY.encode())}",
    b64(KEY.encode()),
    b64(BOM + KEY.encode()),
    "data:text/plain,AWS_KEY%3DAKIAZ3MZQ7YWRT4XPLNV",
    b64(b"\xff\xfe" + KEY.encode("utf-16-le")),
    b64(KEY.encode("utf-16-be")),
], ids=["data url", "bare", "byte order mark", "percent-encoded", "utf-16 marked",
        "utf-16 unmarked"])
def test_a_redaction_is_encoded_back_the_way_the_file_came(original: str) -> None:
    redacted = reencoded(original, "AWS_KEY=████\n")
    assert decoded_text(redacted, "text/plain", None) == "AWS_KEY=████\n"
    header = original.split(",", 1)[0] if original.startswith("data:") else ""
    assert redacted.startswith(header)
    if "base64" in original or not original.startswith("data:"):
        raw = base64.b64decode(redacted.removeprefix(header).removeprefix(","))
        before = base64.b64decode(original.removeprefix(header).removeprefix(","))
        assert raw[:3] == BOM if before.startswith(BOM) else not raw.startswith(BOM)
        assert raw[:2] == before[:2] if before[:2] in (b"\xff\xfe", b"\xfe\xff") else True
        assert len(raw) % 2 == 0 if b"\x00" in before else b"\x00" not in raw


def test_a_rewrite_path_marked_base64_reencodes_and_fails_closed_on_anything_else() -> None:
    body = {"messages": [{"content": [{"type": "file", "file": {
        "filename": "a.env", "file_data": b64(KEY.encode())}}]}]}
    path = "messages[0].content[0].file.file_data#base64"
    sent = replace_strings(body, {path: "AWS_KEY=█\n"})
    assert base64.b64decode(sent["messages"][0]["content"][0]["file"]["file_data"]) \
        == b"AWS_KEY=\xe2\x96\x88\n"
    assert body["messages"][0]["content"][0]["file"]["file_data"] == b64(KEY.encode())
    broken = {"messages": [{"content": [{"type": "file", "file": {"file_data": "@@"}}]}]}
    with pytest.raises(StageFailed):
        replace_strings(broken, {path: "x"})
    with pytest.raises(StageFailed):
        reencoded("data:text/plain;base64", "x")

"""What an MCP server returns is content the model will read but no user wrote: every text in
a tool result, resource or prompt is scanned by the prompt shield with the thresholds for
documents, and marks the session tainted where the tool returns outside content. The reader
hands the same texts to the answer DLP (findings, labels, redaction) by their paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ztai.core.errors import UpstreamError
from ztai.core.flow import Flow
from ztai.core.model import Finding, Span
from ztai.gateway.answer import ANSWER_SEGMENT
from ztai.gateway.attachments import ENCODED, decoded_text
from ztai.gateway.openai.paths import step
from ztai.gateway.plan import Piece
from ztai.threats.shield import Shield, Source


class ResultReader:
    """Texts of a tool result (``content[i].text``, an embedded resource's text or text file
    blob, a resource link's title, description and address, the structured content as one
    JSON text), a resource's ``contents[i].text`` (or text file blob) and a prompt's
    description and messages. The structured content cannot be redacted in place: a DLP rule
    that would change it fails the call closed (``replace_strings`` refuses a non-string
    path)."""

    def pieces(self, body: Mapping[str, Any]) -> list[Piece]:
        found: list[Piece] = []
        for name in ("content", "contents"):
            items = body.get(name)
            if isinstance(items, list):
                for i, item in enumerate(items):
                    found.extend(_item_texts(f"{name}[{i}]", item))
        if isinstance(body.get("description"), str):  # a prompt's
            found.append(("description", body["description"]))
        messages = body.get("messages")
        if isinstance(messages, list):
            for i, message in enumerate(messages):
                if isinstance(message, dict):
                    found.extend(_item_texts(f"messages[{i}].content", message.get("content")))
        structured = body.get("structuredContent")
        if structured is not None:
            found.append(_structured_piece(structured, found))
            _structured_blobs(structured, "structuredContent", found, 1)
        return found

    def delta_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []

    def whole_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []

    def extra_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        return {}


def _structured_piece(structured: Any, texts: list[Piece]) -> Piece:
    """The structured content as one JSON text; when it only wraps a text already in the
    content (the SDK's ``{"result": text}``), that text at its own path, so it is judged once
    and can be redacted like the content."""
    if isinstance(structured, dict) and len(structured) == 1:
        ((key, value),) = structured.items()
        if isinstance(value, str) and key.isidentifier() and key.isascii() \
                and any(value == text for _, text in texts):
            return f"structuredContent.{key}", value
    return "structuredContent", orjson.dumps(structured).decode()


def _structured_blobs(value: Any, at: str, found: list[Piece], depth: int) -> None:
    """Text file blobs inside the structured content (the SDK copies a tool's content
    there): in the JSON text they are base64, which no detector reads."""
    if depth > MAX_DEPTH:
        raise _too_deep(at)
    if isinstance(value, dict):
        found.extend(_blob_text(value, at))
        for key, entry in value.items():
            _structured_blobs(entry, at + step(key), found, depth + 1)
    elif isinstance(value, list):
        for i, entry in enumerate(value):
            _structured_blobs(entry, f"{at}[{i}]", found, depth + 1)


def _item_texts(path: str, item: Any) -> list[Piece]:
    """A content item's text, an embedded resource's text, then every other string in it but
    identifiers and binary data: a resource link's title, description and address, what a
    server adds (the model reads those too)."""
    if not isinstance(item, dict):
        return []
    found: list[Piece] = []
    if isinstance(item.get("text"), str):
        found.append((f"{path}.text", item["text"]))
    found.extend(_blob_text(item, path))  # a resource read's contents
    resource = item.get("resource")
    if isinstance(resource, dict):
        if isinstance(resource.get("text"), str):
            found.append((f"{path}.resource.text", resource["text"]))
        found.extend(_blob_text(resource, f"{path}.resource"))
    _other_strings(item, _READ, path, found)
    if isinstance(resource, dict):
        _other_strings(resource, _TEXT, f"{path}.resource", found)
    return found


def _blob_text(resource: Mapping[str, Any], path: str) -> list[Piece]:
    """A resource's ``blob`` where it is a UTF-8 text file by its media type or the name its
    address ends in (a server may send text that way; the client decodes it for the model)."""
    text = _decoded_blob(resource)
    return [] if text is None else [(f"{path}.blob{ENCODED}", text)]


def _decoded_blob(resource: Mapping[str, Any]) -> str | None:
    blob, media_type, uri = (resource.get(k) for k in ("blob", "mimeType", "uri"))
    if not isinstance(blob, str):
        return None
    name = uri.split("?", 1)[0].split("#", 1)[0] if isinstance(uri, str) else None
    return decoded_text(blob, media_type if isinstance(media_type, str) else None, name)


MAX_DEPTH = 32
# identifiers, media types, binary data, display hints and metadata for the client
_NOT_TEXT = frozenset({"type", "mimeType", "data", "blob", "name", "_meta", "annotations",
                       "icons", "size"})
_READ = frozenset({"text", "resource"})
_TEXT = frozenset({"text"})


def _other_strings(node: Mapping[str, Any], read: frozenset[str], path: str,
                   found: list[Piece]) -> None:
    for key, value in node.items():
        if key not in read and (key not in _NOT_TEXT or key == "name"):
            # a content item's own name (a resource link's) is shown where it has no title:
            # found 2026-11-28, a credential there reached the client unread
            _strings_in(value, path + step(key), found, 1)


def _strings_in(value: Any, at: str, found: list[Piece], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep(at)
    if isinstance(value, str):
        if value:
            found.append((at, value))
    elif isinstance(value, dict):
        for key, entry in value.items():
            if key not in _NOT_TEXT:
                _strings_in(entry, at + step(key), found, depth + 1)
    elif isinstance(value, list):
        for i, entry in enumerate(value):
            _strings_in(entry, f"{at}[{i}]", found, depth + 1)


def _too_deep(at: str) -> UpstreamError:
    return UpstreamError(f"the MCP server's answer is nested more than {MAX_DEPTH} levels "
                         f"deep at {at!r}; not passed on unscanned", code="upstream_bad_response")


def unscanned_parts(body: Mapping[str, Any], pieces: Sequence[Piece]) -> int:
    """Binary parts (images, audio, blobs but the text files among ``pieces``, the result's
    texts as ``ResultReader.pieces`` read them): passed on, recorded as not scanned."""
    read = {path for path, _ in pieces}
    count = 0
    for name in ("content", "contents"):
        for i, item in enumerate(body.get(name) or ()):
            if not isinstance(item, dict):
                continue
            resource = item.get("resource")
            at = f"{name}[{i}]"
            if "data" in item or ("blob" in item and f"{at}.blob{ENCODED}" not in read) or (
                    isinstance(resource, dict) and "blob" in resource
                    and f"{at}.resource.blob{ENCODED}" not in read):
                count += 1
    return count


@dataclass(frozen=True, slots=True)
class ResultVerdict:
    attacked: bool
    score: int  # 0-100
    kinds: tuple[str, ...]
    scanned: bool = True  # False: the shield is off, nothing was judged


class ResultScanner:
    """The prompt shield over a result's texts, findings recorded as the answer's."""

    def __init__(self, shield: Shield | None) -> None:
        self._shield = shield

    def scan(self, flow: Flow, pieces: Sequence[Piece]) -> ResultVerdict:
        """Over the result's texts as ``ResultReader.pieces`` read them."""
        if self._shield is None:
            return ResultVerdict(False, 0, (), scanned=False)
        kinds: set[str] = set()
        score, attacked, offset = 0.0, False, 0
        seen: set[str] = set()
        for _, text in pieces:
            if text in seen:  # the structured copy of a text result is judged once
                offset += len(text) + 1
                continue
            seen.add(text)
            verdict = self._shield.scan(text, Source.DOCUMENT)
            score = max(score, verdict.decision)
            attacked = attacked or verdict.attack
            for m in verdict.matches:
                flow.findings.append(Finding(m.kind, ANSWER_SEGMENT,
                                             Span(offset + m.start, offset + m.end), m.score,
                                             m.detector))
                kinds.add(m.kind)
            offset += len(text) + 1
        return ResultVerdict(attacked, round(score * 100), tuple(sorted(kinds)))

"""Text files sent as attachments: a chat ``file`` part's ``file_data``, a Responses
``input_file``, an MCP resource's ``blob``. The model reads them like any other text, so a
credential in an attached ``.env`` file or an injection in an attached ``notes.md`` must be
found like one typed into the prompt. A file whose media type says text (or, where there is no
media type or only ``application/octet-stream``, whose file name does) and whose bytes are
UTF-8 or UTF-16 (what Windows PowerShell's ``>`` and Excel's "Unicode text" write) is decoded
and scanned, and a redaction is encoded back the way it came (a ``data:`` URL with its media
type, or bare base64, in the file's encoding with its byte order mark). Anything else (PDFs,
images, archives, text in another encoding, data that is not valid base64) is not decoded: it
stays an unscanned part that policies see."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote_from_bytes, unquote_to_bytes

from ztai.core.errors import StageFailed

ENCODED = "#base64"  # a rewrite path so ending names text kept encoded in the string there
# byte order marks and the encodings they mark (UTF-16 is read only with one)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_UTF16_ZEROS = 0.5  # unmarked UTF-16: a zero in at least half of the high bytes
_OCTETS = "application/octet-stream"
_TEXT_TYPES = frozenset({
    "application/json", "application/x-ndjson", "application/jsonl", "application/xml",
    "application/yaml", "application/x-yaml", "application/toml", "application/csv",
    "application/javascript", "application/x-javascript", "application/ecmascript",
    "application/sql", "application/x-sh", "application/x-shellscript", "application/x-python",
    "application/x-httpd-php", "application/graphql", "application/x-pem-file",
    "application/x-tex", "application/rtf", "message/rfc822"})
_TEXT_NAMES = frozenset({
    "txt", "text", "md", "markdown", "rst", "adoc", "org", "csv", "tsv", "json", "jsonl",
    "ndjson", "xml", "html", "htm", "xhtml", "svg", "yaml", "yml", "toml", "ini", "cfg",
    "conf", "config", "env", "properties", "log", "sql", "sh", "bash", "zsh", "fish", "ps1",
    "bat", "cmd", "py", "ipynb", "js", "mjs", "cjs", "ts", "tsx", "jsx", "java", "kt", "kts",
    "go", "rs", "rb", "php", "c", "h", "cc", "cpp", "hpp", "cs", "swift", "scala", "r", "pl",
    "lua", "dart", "css", "scss", "less", "vue", "tex", "bib", "srt", "vtt", "ics", "vcf",
    "eml", "mbox", "pem", "key", "crt", "cer", "pub", "tf", "tfvars", "hcl", "gradle",
    "dockerfile", "makefile", "gitignore", "npmrc", "pypirc", "netrc", "htpasswd", "rtf",
    "diff", "patch"})
_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "utf-16"})


def decoded_text(value: str, media_type: str | None = None,
                 filename: str | None = None) -> str | None:
    """The text a file attachment holds, or None where it is not a UTF-8 or UTF-16 text
    file (by its data URL's media type, else ``media_type``, else the file name) or cannot be
    decoded."""
    encoded, payload = True, value
    if value.startswith("data:"):
        parsed = _data_url(value)
        if parsed is None or not parsed[1]:
            return None
        media_type = parsed[0] or media_type
        encoded, payload = parsed[2], parsed[3]
    if not _is_text(media_type, filename):
        return None
    raw = _from_base64(payload) if encoded else unquote_to_bytes(payload)
    if raw is None:
        return None
    bom, encoding = _encoding(raw)
    if encoding is None:
        return None
    try:
        return raw[len(bom):].decode(encoding)
    except UnicodeDecodeError:
        return None


def is_binary_data_url(value: str) -> bool:
    """A well-formed base64 ``data:`` URL of content that is not text (an image, audio, a
    PDF): nothing in it a detector reads. A text one, or one that does not decode, is not."""
    if not value.startswith("data:"):
        return False
    parsed = _data_url(value)
    if parsed is None or not parsed[2] or _from_base64(parsed[3]) is None:
        return False
    return decoded_text(value) is None


def reencoded(original: str, text: str) -> str:
    """``text`` encoded as ``original`` was (its data URL header, a byte order mark);
    StageFailed where ``original`` is no attachment ``decoded_text`` reads."""
    header = ""
    encoded = True
    payload = original
    if original.startswith("data:"):
        parsed = _data_url(original)
        if parsed is None:
            raise StageFailed("cannot rewrite an attachment that is not a data URL it read")
        _, _, encoded, payload = parsed
        header = original[:len(original) - len(payload)]
    raw = _from_base64(payload) if encoded else unquote_to_bytes(payload)
    if raw is None:
        raise StageFailed("cannot rewrite an attachment whose data is not base64")
    bom, encoding = _encoding(raw)
    if encoding is None:
        raise StageFailed("cannot rewrite an attachment that is no text")
    data = bom + text.encode(encoding)
    body = base64.b64encode(data).decode("ascii") if encoded else quote_from_bytes(data)
    return header + body


def _encoding(raw: bytes) -> tuple[bytes, str | None]:
    """The byte order mark ``raw`` begins with (or none) and the encoding it is in: UTF-8, or
    UTF-16 by its mark or, unmarked, by a zero byte in every other place (ASCII text in UTF-16
    is valid UTF-8 too, every letter followed by a NUL, which no detector would read); None
    for other bytes with zeros in them, which are no text."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return bom, encoding
    if b"\x00" not in raw:
        return b"", "utf-8"
    half = len(raw) // 2
    if len(raw) % 2 == 0 and raw[1::2].count(0) >= _UTF16_ZEROS * half:
        return b"", "utf-16-le"
    if len(raw) % 2 == 0 and raw[0::2].count(0) >= _UTF16_ZEROS * half:
        return b"", "utf-16-be"
    return b"", None


def _data_url(value: str) -> tuple[str, bool, bool, str] | None:
    """``data:[type][;param]*[;base64],payload`` → (media type, charset is UTF-8 or absent,
    base64, payload)."""
    comma = value.find(",")
    if comma < 0:
        return None
    params = value[5:comma].split(";")
    media_type = params[0].strip().lower()
    encoded = params[-1].strip().lower() == "base64" and len(params) > 1
    charset_ok = True
    for param in params[1:-1] if encoded else params[1:]:
        name, _, setting = param.partition("=")
        if name.strip().lower() == "charset":
            charset_ok = setting.strip().strip('"').lower() in _CHARSETS
    return media_type, charset_ok, encoded, value[comma + 1:]


def _from_base64(payload: str) -> bytes | None:
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_text(media_type: str | None, filename: str | None) -> bool:
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind and kind != _OCTETS:
        return (kind.startswith("text/") or kind in _TEXT_TYPES
                or kind.endswith(("+json", "+xml")))
    if not filename:
        return False
    name = filename.rsplit("/", 1)[-1].lower()
    return (name.rsplit(".", 1)[-1] if "." in name else name) in _TEXT_NAMES

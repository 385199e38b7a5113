"""Output-side checks: a model answer that sends data out through markdown images or links to a
domain not on the allow-list, hides HTML (active tags, invisible styles, comments that carry
instructions), or a tool call whose arguments fetch and run code or carry data to such a domain.
Every finding is a span of the text given; nothing is fetched or rendered."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import re2

from ztai.threats.model import ThreatKind, ThreatMatch

DETECTOR = "threats.output"
_IMAGE_SCORE, _IMAGE_DATA_SCORE, _LINK_DATA_SCORE = 0.6, 0.95, 0.8


@dataclass(frozen=True, slots=True)
class OutputPolicy:
    """``allowed_domains`` may receive requests from a rendered answer or a tool call (a domain
    allows its subdomains). A query longer than ``max_query_chars``, or a path segment, query
    value or host label of ``max_token_chars`` or more, counts as carrying data."""

    allowed_domains: frozenset[str] = frozenset()
    max_query_chars: int = 64
    max_token_chars: int = 32

    def is_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if not host.isascii():
            return False  # an internationalised host is never taken for an allowed one
        return any(host == d or host.endswith("." + d) for d in self._domains())

    def _domains(self) -> Iterator[str]:
        return (d.lower().removeprefix("*.").strip(".") for d in self.allowed_domains)


class OutputInspector:
    """Build once (it compiles its patterns) and reuse. ``inspect`` and ``inspect_tool_call``
    never raise for any string and are linear in its length; streamed answers are inspected
    window by window by the caller."""

    __slots__ = ("_patterns", "_policy")

    def __init__(self, policy: OutputPolicy | None = None) -> None:
        self._policy = policy or OutputPolicy()
        self._patterns = _Patterns.compile()

    def inspect(self, text: str) -> list[ThreatMatch]:
        """Findings in a model answer: ``threat.exfiltration`` and ``threat.hidden_html``."""
        text = _encodable(text)
        found = [*self._markdown(text), *self._html(text), *self._comments(text),
                 *self._css(text)]
        covered = {(m.start, m.end) for m in found}
        found += [m for m in self._bare_urls(text) if (m.start, m.end) not in covered]
        return sorted(found, key=lambda m: (m.start, m.end, m.kind))

    def inspect_tool_call(self, name: str, arguments: str) -> list[ThreatMatch]:
        """Findings in a tool call's arguments (the JSON text the model wrote), as
        ``threat.suspicious_tool_args``: code fetched and run, secrets read or uploaded, URLs to
        domains not allowed that carry data. ``name`` is the tool's name (reserved for per-tool
        allow-lists)."""
        arguments = _encodable(arguments)
        found = list(self._tool_findings(arguments, (0, 0)))
        decoded = _json_strings(arguments) if "\\" in arguments else ""
        if decoded:  # JSON escapes can spell a command out of sight of the raw-text patterns
            whole = (0, len(arguments))
            found += [m for m in self._tool_findings(decoded, whole) if _is_new(m, found)]
        return found

    # Each pattern runs only where the text holds what every match of it must contain (checked
    # with ``in``, which keeps the GIL; an RE2 search releases it, and handing the interpreter
    # to another thread costs far more than the search): most answers hold no link or tag.

    def _markdown(self, text: str) -> Iterator[ThreatMatch]:
        if _may_hold(text, "]("):
            for match in self._patterns.markdown.finditer(text):
                is_image = match.group(1) == "!"
                yield from self._url_finding(match.group(2), match.span(2), image=is_image)
        if _may_hold(text, "]:"):
            # a reference-style image (``![x][1]`` with ``[1]: https://...`` anywhere else):
            # fetched like an inline one, and the form that slipped past filters of inline
            # images (EchoLeak); its definition is judged as an image's address
            images = self._image_labels(text) if _may_hold(text, "![") else set()
            for match in self._patterns.reference.finditer(text):
                yield from self._url_finding(match.group(2), match.span(2),
                                             image=_label(match.group(1)) in images)

    def _image_labels(self, text: str) -> set[str]:
        """The reference labels images use: ``![x][label]``, ``![label][]`` and ``![label]``
        (a full reference, a collapsed one, a shortcut)."""
        labels = set()
        for match in self._patterns.image_reference.finditer(text):
            alt, label = match.group(1), match.group(2)
            if label is None and text.startswith("(", match.end()):
                continue  # an inline image, ``![x](...)``
            labels.add(_label(label or alt))
        return labels

    def _html(self, text: str) -> Iterator[ThreatMatch]:
        if _may_hold(text, "<"):
            for match in self._patterns.tag.finditer(text):
                tag, start = match.group(1).lower(), match.start()
                yield _threat(ThreatKind.HIDDEN_HTML, match.span(), _TAG_SCORES[tag])
                for url in self._patterns.attribute_url.finditer(match.group()):
                    span = (start + url.start(1), start + url.end(1))
                    yield from self._url_finding(url.group(1), span,
                                                 image=tag in _LOADING_TAGS)
        # case-insensitive "style": casefold() maps every letter RE2 folds onto s, t, y, l, e
        # (the long s included) to it
        if _may_hold(text, "=") and _may_hold(text.casefold(), "style"):
            for match in self._patterns.hidden_style.finditer(text):
                yield _threat(ThreatKind.HIDDEN_HTML, match.span(), 0.7)

    def _css(self, text: str) -> Iterator[ThreatMatch]:
        """Addresses a style sheet fetches as it is applied — ``url(…)`` in a ``style``
        attribute of any element or in a ``<style>`` block, ``@import`` — judged as images."""
        if _may_hold(text, "url(") or _may_hold(text, "@import"):
            for match in self._patterns.css_url.finditer(text):
                url = match.group(1) or match.group(2)
                span = match.span(1) if match.group(1) else match.span(2)
                yield from self._url_finding(url, span, image=True)

    def _comments(self, text: str) -> Iterator[ThreatMatch]:
        if not _may_hold(text, "<!--"):
            return
        for match in self._patterns.comment.finditer(text):
            score = 0.8 if self._patterns.instruction.search(match.group()) else 0.3
            yield _threat(ThreatKind.HIDDEN_HTML, match.span(), score)

    def _bare_urls(self, text: str) -> Iterator[ThreatMatch]:
        if not _may_hold(text, "//"):
            return
        for match in self._patterns.url.finditer(text):
            yield from self._url_finding(match.group(), match.span(), image=False)

    def _url_finding(
        self, url: str, span: tuple[int, int], *, image: bool
    ) -> Iterator[ThreatMatch]:
        if url.lower().startswith(("javascript:", "vbscript:")):
            yield _threat(ThreatKind.HIDDEN_HTML, span, 0.8)
            return
        parts = _split(url)
        if parts is None or parts.hostname is None or self._policy.is_allowed(parts.hostname):
            return  # relative, unparsable (never fetched) or allowed
        data = _carries_data(parts, self._policy)
        score = (_IMAGE_DATA_SCORE if data else _IMAGE_SCORE) if image else _LINK_DATA_SCORE
        if image or data:
            yield _threat(ThreatKind.EXFILTRATION, span, score)

    def _tool_findings(self, text: str, whole: tuple[int, int]) -> Iterator[ThreatMatch]:
        kind = ThreatKind.SUSPICIOUS_TOOL_ARGS
        for index, start, end in self._patterns.shell.find(text):
            name, score, _ = _SHELL_RULES[index]
            span = whole if whole[1] else (start, end)
            yield ThreatMatch(kind, span[0], span[1], score, f"{DETECTOR}.shell.{name}")
        for match in self._patterns.url.finditer(text):
            parts = _split(match.group())
            if parts is None or parts.hostname is None or self._policy.is_allowed(parts.hostname):
                continue
            if _carries_data(parts, self._policy):
                span = whole if whole[1] else match.span()
                yield ThreatMatch(kind, span[0], span[1], _LINK_DATA_SCORE, f"{DETECTOR}.url")


def _label(text: str) -> str:
    """A reference label as Markdown matches them: case and runs of white space do not count."""
    return " ".join(text.split()).casefold()


def _threat(kind: ThreatKind, span: tuple[int, int], score: float) -> ThreatMatch:
    return ThreatMatch(kind, span[0], span[1], score, DETECTOR)


def _is_new(found: ThreatMatch, earlier: list[ThreatMatch]) -> bool:
    return all(m.detector != found.detector for m in earlier)


def _json_strings(arguments: str) -> str:
    """Every string in the arguments' JSON, escapes decoded, one per line ("" if not JSON)."""
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
        unescaped = arguments.encode("latin-1", "backslashreplace").decode(
            "unicode_escape", "replace"
        )
        return _encodable(unescaped)
    return _encodable("\n".join(_strings(value)))


def _may_hold(text: str, marker: str) -> bool:
    """Whether ``text`` contains ``marker``, which every match of a pattern contains."""
    return marker in text


def _encodable(text: str) -> str:
    """The text with lone surrogates (which RE2 cannot take) replaced, length kept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:  # iterative: deeply nested JSON must not exhaust the recursion limit
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)


def _split(url: str) -> Any:
    """The parts of ``url`` as a browser reads it: character references decoded (Markdown and
    HTML both decode them: ``https&#58;//``), ASCII tabs and line breaks dropped and C0
    controls and spaces trimmed (the URL parser does), and backslashes read as slashes after
    the scheme of a web URL (``https:\\\\evil.test\\p.png`` is fetched from evil.test)."""
    if "&" in url:
        url = html.unescape(url)
    url = url.translate(_URL_DROPPED).strip(_C0_AND_SPACE)
    if url[:2] in ("//", "\\\\", "/\\", "\\/"):
        url = "https:" + url
    web = _WEB_SCHEME.match(url)
    if web is not None:
        url = f"{web.group(1)}://{url[web.end():]}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a malformed port: treat the URL as unparsable
    except ValueError:
        return None
    return parts if parts.scheme.lower() in ("http", "https", "ftp", "ws", "wss") else None


_URL_DROPPED = str.maketrans(dict.fromkeys("\t\n\r"))
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
# a web scheme and the slashes after it, any mix of / and \ (at least one): the authority
_WEB_SCHEME = re.compile(r"(?i)(https?|ftp|wss?):[\\/]+")


def _carries_data(parts: Any, policy: OutputPolicy) -> bool:
    """Long queries, long path segments or query values, long host labels (DNS exfiltration)."""
    limit = policy.max_token_chars
    query = (side for pair in parts.query.split("&") for side in pair.partition("=")[::2])
    tokens = [*parts.path.split("/"), *query, parts.fragment, *(parts.hostname or "").split(".")]
    return len(parts.query) > policy.max_query_chars or any(len(t) >= limit for t in tokens)


# --- patterns ----------------------------------------------------------------------------------

_TAG_SCORES = {
    **dict.fromkeys(("script", "iframe", "frame", "object", "embed", "meta", "base", "form"), 0.8),
    **dict.fromkeys(("img", "image", "video", "audio", "source", "svg", "link", "input"), 0.6),
}
_LOADING_TAGS = frozenset(("img", "image", "video", "audio", "source", "svg", "link", "input"))
_INSTRUCTION_WORDS = (
    r"\b(?:ignore|disregard|instructions?|assistant|ai|llm|model|system|prompt|send|forward"
    r"|execute|run|fetch|visit|click|password|secret|token|api\s+key|do\s+not\s+tell|user)\b"
)
_HIDDEN_STYLE = (
    r"style\s*=\s*[\"'][^\"'>]{0,500}?(?:display\s*:\s*none|visibility\s*:\s*hidden"
    r"|font-size\s*:\s*0(?:\.0+)?(?:px|em|rem|pt|%)?\s*[;\"']|opacity\s*:\s*0(?:\.0+)?\s*[;\"']"
    r"|color\s*:\s*(?:transparent|white|#fff(?:fff)?)\b|(?:height|width)\s*:\s*0(?:px)?\s*[;\"']"
    r"|(?:left|top)\s*:\s*-\d{4,})"
)
_SHELL_RULES: tuple[tuple[str, float, str], ...] = (
    (
        "fetch_pipe_shell",
        0.9,
        r"\b(?:curl|wget|fetch|iwr|invoke-webrequest)\b[^|\n;]{0,300}\|\s*(?:sudo\s+)?"
        r"(?:ba|z|k|da|c|tc|fi)?sh\b",
    ),
    (
        "fetch_pipe_interpreter",
        0.9,
        r"\b(?:curl|wget|iwr|invoke-webrequest)\b[^|\n;]{0,300}\|\s*(?:sudo\s+)?"
        r"(?:python\d?|perl|ruby|node|php|iex|powershell|pwsh)\b",
    ),
    ("shell_of_fetch", 0.9, r"\b(?:ba|z)?sh\s+(?:-c\s+[\"']?\$\(|<\(\s*)\s*(?:curl|wget)\b"),
    ("eval_of_fetch", 0.9, r"\beval\s+[\"']?\$\(\s*(?:curl|wget)\b"),
    (
        "decode_pipe_shell",
        0.85,
        r"\bbase64\s+(?:-d|--decode|-D)\b[^|\n]{0,200}\|\s*(?:sudo\s+)?(?:ba|z)?sh\b",
    ),
    ("dev_tcp", 0.9, r"/dev/(?:tcp|udp)/"),
    ("netcat_exec", 0.9, r"\b(?:nc|ncat|netcat)\b[^\n]{0,100}\s-(?:e|c)\s"),
    (
        "powershell_encoded",
        0.85,
        r"\bpowershell(?:\.exe)?\b[^\n]{0,80}\s-(?:e|ec|enc|encodedcommand)\s",
    ),
    ("powershell_download", 0.8, r"\biex\s*\(|\bdownloadstring\s*\(|\binvoke-expression\b"),
    (
        "remove_everything",
        0.9,
        r"\brm\s+-(?:rf|fr|r\s+-f|-recursive\s+--force)\s+(?:--no-preserve-root\s+)?"
        r"(?:/|~|\*|\$home)",
    ),
    ("chmod_run", 0.6, r"\bchmod\s+(?:\+x|[0-7]?7[0-7][0-7])\b[^\n;&|]{0,200}(?:&&|;)\s*\./"),
    (
        "upload_file",
        0.7,
        r"\bcurl\b[^\n]{0,300}\s(?:-d|--data(?:-binary|-raw|-urlencode)?|-F|--form|-T"
        r"|--upload-file)\s+[\"']?@",
    ),
    (
        "secret_file",
        0.6,
        r"(?:/etc/(?:passwd|shadow|sudoers)|\.ssh/(?:id_\w+|authorized_keys)|\.aws/credentials"
        r"|\.kube/config|\.netrc|\.git-credentials)\b",
    ),
)


@dataclass(frozen=True, slots=True)
class _ShellSet:
    any_of: Any
    each: tuple[Any, ...]

    def find(self, text: str) -> list[tuple[int, int, int]]:
        hits = self.any_of.Match(text) or ()
        return [
            (index, *match.span())
            for index in sorted(hits)
            for match in [self.each[index].search(text)]
            if match is not None
        ]


@dataclass(frozen=True, slots=True)
class _Patterns:
    markdown: Any
    reference: Any
    image_reference: Any
    tag: Any
    attribute_url: Any
    hidden_style: Any
    comment: Any
    instruction: Any
    url: Any
    css_url: Any
    shell: _ShellSet

    @classmethod
    def compile(cls) -> _Patterns:
        options = re2.Options()
        options.case_sensitive = False
        tags = "|".join(sorted(_TAG_SCORES, key=len, reverse=True))
        return cls(
            markdown=re2.compile(r"(!?)\[[^\]\n]{0,1000}\]\(\s*<?([^\s)>]+)", options),
            reference=re2.compile(r"(?m)^ {0,3}\[([^\]\n]{1,200})\]:\s*<?([^\s>]+)", options),
            image_reference=re2.compile(r"!\[([^\]\n]{0,1000})\](?:\s?\[([^\]\n]{0,200})\])?",
                                        options),
            tag=re2.compile(rf"<\s*({tags})\b[^>]{{0,1000}}>?", options),
            attribute_url=re2.compile(
                r"\b(?:src|href|data|action|srcset|background|poster|formaction)\s*=\s*"
                r"[\"']?([^\"'\s>]+)",
                options,
            ),
            hidden_style=re2.compile(_HIDDEN_STYLE, options),
            comment=re2.compile(r"<!--(?s:.)*?-->", options),
            instruction=re2.compile(_INSTRUCTION_WORDS, options),
            url=re2.compile(r"(?:https?:)?//[^\s<>\"'`)\]}|\\^]+", options),
            # as CSS writes them, in lower case (JavaScript's ``new URL("…")`` builds an
            # address, it fetches nothing)
            css_url=re2.compile(r"(?:^|[^.\w])url\(\s*[\"']?([^\"')\s]+)"
                                r"|@import\s+[\"']([^\"'\s;]+)"),
            shell=_shell_set(options),
        )


def _shell_set(options: Any) -> _ShellSet:
    any_of = re2.Set.SearchSet(options)
    for _, _, pattern in _SHELL_RULES:
        any_of.Add(pattern)
    any_of.Compile()
    return _ShellSet(any_of, tuple(re2.compile(p, options) for _, _, p in _SHELL_RULES))

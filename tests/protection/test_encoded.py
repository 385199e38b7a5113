"""The detectors over base64 and hex runs decoded: a credential or personal data encoded to slip
past them is found (added 2026-11-27: every detector read the clear text only), on the encoded
characters that carry it, wherever a run is cut; runs that are no text (hashes, ids, binary,
long words, paths) find nothing, and hostile runs cost linear time."""

from __future__ import annotations

import base64
import random

import pytest

from tests.deadline import within
from ztai.protection.encoded import EncodedContent
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
    found = {m.kind: m for m in detector.detect(text)}
    assert set(found) == {"secret.aws-access-token", "pii.email"}
    key = found["secret.aws-access-token"]
    assert key.detector == "secrets.gitleaks+encoded"
    # the span holds the encoded key and little more (a group on each side at most)
    span = text[key.start:key.end]
    assert span in encoded
    assert len(span) <= len(encoded) // 2
    assert KEY in _decode(text, key.start, key.end, encoded)


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
], ids=["hash", "uuid and long words", "paths", "binary", "zeros", "clear text, nothing"])
def test_runs_that_hold_no_finding_find_nothing(detector: EncodedContent, text: str) -> None:
    assert detector.detect(text) == []


def test_hostile_runs_are_read_in_linear_time(detector: EncodedContent) -> None:
    """A megabyte of one run, of each kind, and of many short runs: no hang (each character
    is in one run, decoded at most four times)."""
    with within(20):
        for text in ("A" * 1_000_000, "AB+/" * 250_000, "0123456789abcdef" * 62_500,
                     ("QUtJQVozTVpRN1lX " * 60_000), b64(CLEAR * 20_000)):
            detector.detect(text)


def test_the_fast_run_finder_finds_what_the_pattern_finds() -> None:
    """ASCII texts are searched as mapped bytes, not by RE2: the same runs, seeded texts."""
    from ztai.protection.encoded import _B64, _runs

    rng = random.Random(11)  # noqa: S311 -- reproducible test input
    for _ in range(2000):
        text = "".join(rng.choice("ABCab01+/_-= .,\n") for _ in range(rng.randint(0, 120)))
        assert list(_runs(text)) == [(m.start(), m.group()) for m in _B64.finditer(text)]

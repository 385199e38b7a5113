"""Random hostile text through every detector that reads what users, documents and tools say:
the normalisers, the whole prompt shield (as a user prompt and as a document), the output and
canary detectors, and the PII, secret, encoded-data, term and fingerprint detectors. A detector
that raises, or gives no answer within ``--limit`` seconds, stops the run and prints the text
(Python's ``repr``), to become a regression test.

Texts are built from fragments: characters of every class the normalisers tell apart (ASCII,
accents, other scripts, look-alikes, NFKC-changed, combining marks, invisible and bidi controls,
tag characters, lone surrogates, NUL and ESC), phrases that wake the rules and detectors (an
override, a markdown image, a PEM header, a card, an SSN, an IBAN, a phone number, an e-mail
address, a protected term), and some of them encoded (base64, percent, hex, rot13, spelled out,
byte values) so that the decoders have work.

    .venv/bin/python scripts/fuzz_text.py --seed 1 --seconds 600

It found the normaliser stall fixed on 2026-11-27 (a combining mark with no base, then a
fullwidth letter) within seconds on the code before the fix.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import random
import signal
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from ztai.protection.encoded import EncodedContent
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.normalize import Normalizer
from ztai.protection.pii import default_pii_detector
from ztai.protection.secrets_detector import SecretDetector
from ztai.protection.terms import TermDetector
from ztai.threats.canary import CanaryDetector, new_canary
from ztai.threats.normalize import Deobfuscator
from ztai.threats.output import OutputInspector
from ztai.threats.shield import Shield, Source

FRAGMENTS = (
    *"aZ0 .-:/@+=%_x#()[]<>!\"'`{}|\\;,*\n\t",
    "é", "ß", "ж", "а", "о", "中", "ｆ", "①", "ﬁ", "ℌ", "𝐀", "１", "Ⓐ", "ǅ", "İ", "\u212a", "—",
    "\u0301", "\u0327", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u2028",
    "\U000e0041", "\U000e007f", "\U0001f3f4", "\ud800", "\x00", "\x1b",
    "ignore previous instructions", "system:", "![x](https://e.test/?q=", "<img src=", "<!--",
    "-->", "AKIA", "ghp_", "-----BEGIN", "eyJ", "4111 1111 1111 1111", "123-45-6789",
    "+1 (555) 010-0199", "DE89 3704 0044 0532 0130 00", "john.smith@example.com",
    "Project Obsidian", "http://", "&#x41;", "\\u0041", "0x41", "=41", "Zm9v", "vtaber",
    "A K I A ", "65, 75, ", "%41", "&#65;", "\\x41", "4 1 1 1 ", "a-b-c-", "41 4b ",
)
DOCUMENT = ("The quarterly planning review moves to Thursday at ten. Please bring the updated "
            "figures for the regional offices. ") * 3


def encoded(text: str, rng: random.Random) -> str:
    data = text.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.25:
        return base64.b64encode(data).decode()
    if roll < 0.5:
        return urllib.parse.quote(text.encode("utf-8", "replace"))
    if roll < 0.65:
        return data.hex()
    if roll < 0.8:
        return codecs.encode(text.encode("ascii", "ignore").decode(), "rot13")
    if roll < 0.87:
        return " ".join(text)
    if roll < 0.94:
        return ", ".join(str(b) for b in data)
    return text


def hostile_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 25)):
        part = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 6)))
        parts.append(encoded(part, rng) if rng.random() < 0.2 else part)
    return "".join(parts)


def detectors() -> list[tuple[str, Callable[[str], Any]]]:
    shield, inspector = Shield(), OutputInspector()
    secrets, pii = SecretDetector.build(), default_pii_detector()
    fingerprints = FingerprintIndex()
    fingerprints.add("doc", DOCUMENT)
    return [
        ("deobfuscate", Deobfuscator().deobfuscate),
        ("pii normaliser", Normalizer().normalize),
        ("shield, user", lambda t: shield.scan(t, Source.USER)),
        ("shield, document", lambda t: shield.scan(t, Source.DOCUMENT)),
        ("pii", pii.detect),
        ("secrets", secrets.detect),
        ("encoded", EncodedContent([secrets, pii]).detect),
        ("output", inspector.inspect),
        ("tool call", lambda t: inspector.inspect_tool_call("send_email", t)),
        ("canary", CanaryDetector(new_canary()).detect),
        ("terms", TermDetector.from_phrases(["Project Obsidian", "blue harbor"]).detect),
        ("fingerprints", fingerprints.detect),
    ]


def _expired(signum: int, frame: object) -> None:
    raise TimeoutError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--limit", type=int, default=5, help="seconds one detector may take")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)  # noqa: S311 -- reproducible test input, not secrecy
    checks = detectors()
    signal.signal(signal.SIGALRM, _expired)
    deadline, count = time.monotonic() + args.seconds, 0
    while time.monotonic() < deadline:
        text = hostile_text(rng)
        for name, check in checks:
            signal.alarm(args.limit)
            try:
                check(text)
            except TimeoutError:
                print(f"STALL in {name}: {text!r}")
                return 1
            except Exception as exc:  # noqa: BLE001 -- reported with the text that caused it
                print(f"{type(exc).__name__} in {name}: {exc}: {text!r}")
                return 1
            finally:
                signal.alarm(0)
        count += 1
    print(f"{count} texts through {len(checks)} detectors: no stall, no exception")
    return 0


if __name__ == "__main__":
    sys.exit(main())

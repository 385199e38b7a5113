"""``SecretDetector`` with the shipped rules, through the ``Detector`` interface: exact secret
spans (in characters, whatever precedes them), precedence over the generic rule, inputs that
must not raise, and adversarial megabyte inputs that RE2 gets through in linear time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ztai.protection.interface import Detector
from ztai.protection.secrets_detector import SecretDetector, SecretDetectorConfig
from ztai.protection.secrets_entropy import HighEntropyPolicy
from ztai.protection.secrets_text import shannon_entropy

OPENAI = ("sk-proj-ujPeIxdGcBefB0hoO8Kz_c2sjht0lLOxJednRBuLDtYSpKH4Us_hAWjFcQWK4uSMLD18EQdSP-"
          "T3BlbkFJ0syQbDkhdXipz3fCJ403rAw49jlooFLqaAxK8SGNRd5X3ZzzgOdenkvdajgxb3Njqwxh2-DEfg")
ANTHROPIC = ("sk-ant-api03-vq1kb8HjIbH_3SqxkXIXvoZ-2Z0VoHwbbrqS9C7-9xoomnN51EPZfQ6YWElYvZ_zz8Ukij"
             "5Zj0_QwJia_PH7B30nqspLqAA")
GITHUB = "ghp_zi4vCK4A4FGGbBlaXkDSIuGIWgIprVFIV4BL"
STRIPE = "sk_live_FFQCHD6R26qI60ihBeoePW3j"
SLACK = "xoxb-761892934981-4531370540365-d9W8gqcWqiA4Yqj4JRfdQAe6"
AWS = "AKIAUZC3C3OKR5IEQHDF"
MB = 1_000_000


@pytest.fixture(scope="module")
def detector() -> SecretDetector:
    return SecretDetector.build()


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start:m.end]) for m in detector.detect(text)]


@pytest.mark.parametrize(("text", "kind", "secret"), [
    (f"OPENAI_API_KEY={OPENAI}\n", "secret.openai-api-key", OPENAI),
    (f'client = Anthropic(api_key="{ANTHROPIC}")', "secret.anthropic-api-key", ANTHROPIC),
    (f"git clone https://{GITHUB}@github.com/acme/app", "secret.github-pat", GITHUB),
    (f"stripe.api_key = '{STRIPE}'", "secret.stripe-access-token", STRIPE),
    (f"SLACK_TOKEN: {SLACK}", "secret.slack-bot-token", SLACK),
    (f"aws_access_key_id = {AWS}", "secret.aws-access-token", AWS),
])
def test_provider_tokens(detector: SecretDetector, text: str, kind: str, secret: str) -> None:
    assert found(detector, text) == [(kind, secret)]


def test_a_named_rule_takes_precedence_over_the_generic_one(detector: SecretDetector) -> None:
    text = f"api_token = {GITHUB}"
    assert found(detector, text) == [("secret.github-pat", GITHUB)]


def test_generic_rule_catches_an_assignment(detector: SecretDetector) -> None:
    text = 'service_token = "Zx9kQ2vL8pR5wT3"'
    assert found(detector, text) == [("secret.generic-api-key", "Zx9kQ2vL8pR5wT3")]
    assert detector.detect(text)[0].score < 1.0


@pytest.mark.parametrize("prefix", ["", "héllo wörld ", "😀😀 ", "日本語のテキスト "])
def test_spans_are_character_offsets(detector: SecretDetector, prefix: str) -> None:
    text = f"{prefix}key {GITHUB} ünd {AWS}"
    assert found(detector, text) == [("secret.github-pat", GITHUB),
                                     ("secret.aws-access-token", AWS)]
    assert [m.detector for m in detector.detect(text)] == ["secrets.gitleaks"] * 2


@pytest.mark.parametrize("text", [
    "", "\x00" * 100, "\ud800 lone surrogate " + GITHUB, "\uffff" * 10, "-----BEGIN", "eyJ.",
    "postgres://:@", "\n" * 1000,
])
def test_odd_inputs_do_not_raise(detector: SecretDetector, text: str) -> None:
    for match in detector.detect(text):
        assert 0 <= match.start < match.end <= len(text)


def test_a_lone_surrogate_keeps_offsets_aligned(detector: SecretDetector) -> None:
    text = f"\ud800 {GITHUB}"
    assert found(detector, text) == [("secret.github-pat", GITHUB)]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(("hidden", "note"), [
    ("\u200b".join(AWS), "a zero-width space between every two characters"),
    ("\u00ad".join(AWS[:10]) + AWS[10:], "soft hyphens"),
    (AWS[:8] + "\u2060\ufeff" + AWS[8:], "a word joiner and a byte order mark"),
    (_fullwidth(AWS), "fullwidth forms"),
])
def test_a_key_hidden_by_unicode_is_found_over_its_original_characters(
        detector: SecretDetector, hidden: str, note: str) -> None:
    # what a person reads, or a script that strips invisible characters gets, is the key
    text = f"Résumé: the key is {hidden} — keep it safe"
    assert found(detector, text) == [("secret.aws-access-token", hidden)], note


def test_plain_prose_has_no_secrets(detector: SecretDetector) -> None:
    text = ("Please summarise the attached quarterly report. The access policy says tokens "
            "expire after 30 days; the key point is that passwords must be rotated.")
    assert detector.detect(text) == []


ADVERSARIAL: dict[str, Callable[[], str]] = {
    "one character": lambda: "a" * MB,
    "assignments": lambda: "api_key = " * (MB // 10),
    "curl without end": lambda: "curl -u a:b " * (MB // 12),
    "curl header lines": lambda: "curl -H 'Authorization: Bearer x'\n" * (MB // 34),
    "key headers without end": lambda: "-----BEGIN RSA PRIVATE KEY-----\n" * (MB // 32),
    "key header then one line": lambda: "-----BEGIN PRIVATE KEY-----" + "A" * MB,
    "jwt prefixes": lambda: "eyJhbGciOiJIUzI1NiJ9." * (MB // 21),
    "url credentials": lambda: "postgres://u:" * (MB // 13),
    "kubernetes": lambda: "kind: secret\ndata:\n" * (MB // 19),
    "token soup": lambda: "token=secret:password" * (MB // 21),
}


@pytest.mark.parametrize("make", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_megabyte_adversarial_inputs_finish(make: Callable[[], str]) -> None:
    """Linear time: no timing assert (benchmarks live in bench/); each input is 1 MB and a
    backtracking engine would not finish these in any reasonable time."""
    config = SecretDetectorConfig(high_entropy=HighEntropyPolicy())
    detector = SecretDetector.build(config)
    text = make()
    assert len(text) >= MB * 0.99
    assert all(m.end <= len(text) for m in detector.detect(text))


@pytest.mark.parametrize(("value", "bits"), [("", 0.0), ("aaaa", 0.0), ("abcd", 2.0),
                                             ("aabb", 1.0), ("0123456789abcdef", 4.0)])
def test_shannon_entropy(value: str, bits: float) -> None:
    assert shannon_entropy(value) == pytest.approx(bits)

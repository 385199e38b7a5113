"""The gitleaks rule path: TOML → converter → JSON rule file → compiled rules → findings, on a
tiny config that exercises each field (keywords, entropy, secret group, allowlists, rules RE2
cannot compile, path-only rules), plus the shipped rule file and malformed rule files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ztai.protection.secrets_compile import AllowlistError, SkippedRule
from ztai.protection.secrets_convert import convert_gitleaks, rule_file_text
from ztai.protection.secrets_detector import SecretDetector, SecretDetectorConfig
from ztai.protection.secrets_rules import (
    RegexTarget,
    RuleBook,
    RuleFileError,
    load_rule_book,
    load_shipped_rules,
    parse_rule_book,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = Path(__file__).parent / "fixtures" / "secrets" / "tiny_gitleaks.toml"
LICENSE = "MIT License\n\nCopyright (c) 2019 Zachary Rice\n"


@pytest.fixture(scope="module")
def book() -> RuleBook:
    converted = convert_gitleaks(TINY.read_text(encoding="utf-8"), LICENSE, "tiny")
    return parse_rule_book(rule_file_text(converted))


@pytest.fixture(scope="module")
def tiny(book: RuleBook) -> SecretDetector:
    return SecretDetector.build(SecretDetectorConfig(builtins=False), book)


def test_converter_keeps_every_field(book: RuleBook) -> None:
    rules = {r.id: r for r in book.rules}
    assert list(rules) == ["acme-token", "zed-key", "bare-word", "ctx-token", "named-claims",
                           "bad-allowlist", "bad-group", "lookahead-token", "p12-file"]
    assert rules["acme-token"].keywords == ("acme_",)  # lower-cased, as gitleaks matches them
    assert rules["acme-token"].entropy == 3.0
    assert rules["zed-key"].secret_group == 2
    assert rules["named-claims"].secret_group == 0  # only named groups: the whole match
    assert rules["acme-token"].secret_group is None  # gitleaks: the first non-empty group
    assert [a.target for a in rules["zed-key"].allowlists] == [RegexTarget.LINE,
                                                                RegexTarget.SECRET]
    assert rules["zed-key"].allowlists[1].require_all
    assert rules["zed-key"].allowlists[1].paths == (r"\.md$",)
    assert rules["p12-file"].regex is None
    assert rules["p12-file"].path == r"(?i)\.p12$"
    assert book.allowlists[0].stopwords == ("EXAMPLEKEY",)
    assert book.source.startswith("tiny (minVersion v8.25.0, sha256 ")


def test_rules_that_cannot_be_used_are_reported_not_dropped(tiny: SecretDetector) -> None:
    reasons = {s.rule_id: s.reason for s in tiny.skipped}
    assert list(reasons) == ["bad-allowlist", "bad-group", "lookahead-token", "p12-file"]
    assert reasons["bad-allowlist"].startswith("RE2 cannot compile an allowlist regex: ")
    assert reasons["bad-group"] == "secret group 3 > 1 groups"
    assert reasons["lookahead-token"].startswith("RE2 cannot compile its regex: ")
    assert tiny.skipped[-1] == SkippedRule(
        "p12-file", "path-only rule: it matches file names, a prompt has none")
    assert tiny.rule_ids == ("acme-token", "zed-key", "bare-word", "ctx-token", "named-claims")


@pytest.mark.parametrize(("text", "expected"), [
    ("token acme_a1b2c3d4e5f6g7h8 here", [("secret.acme-token", "acme_a1b2c3d4e5f6g7h8")]),
    ("ACME_ said acme_aaaaaaaaaaaaaaaa", []),  # entropy at or under the rule's floor
    ("acme_examplekey123456", []),  # global stopword, compared lower-cased
    ("zed_key = 'user1'; Abcdef123456XY", [("secret.zed-key", "Abcdef123456XY")]),  # group 2
    ("zed_key = u; Abcdef123456XY  # example", []),  # allowlist on the line
    ("ZED-KEY: a; CHANGEME_LATER_1", []),  # global allowlist regex on the secret
    ("x\nbarepass-secret\ny", [("secret.bare-word", "barepass-secret")]),  # newlines trimmed
    ("nm_ab123456", [("secret.named-claims", "nm_ab123456")]),
    ("barepass-dummyx", []),  # rule stopword
    ("barepass-test", []),  # allowlist on the match
    ("ctx0123456789ab", []),  # keyword absent: the rule does not run
    ("Context: ctx0123456789ab", [("secret.ctx-token", "ctx0123456789ab")]),
])
def test_rules_apply_as_gitleaks_applies_them(tiny: SecretDetector, text: str,
                                              expected: list[tuple[str, str]]) -> None:
    assert [(m.kind, text[m.start:m.end]) for m in tiny.detect(text)] == expected


def test_script_writes_the_converted_file(tmp_path: Path, book: RuleBook) -> None:
    license_path, out = tmp_path / "LICENSE", tmp_path / "rules.json"
    license_path.write_text(LICENSE, encoding="utf-8")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "convert_gitleaks.py"), str(TINY),
                    "--license", str(license_path), "--out", str(out)], check=True,
                   capture_output=True)
    converted = json.loads(out.read_text(encoding="utf-8"))
    assert converted["license"] == LICENSE
    assert "Zachary Rice" in converted["notice"]
    assert load_rule_book(out).rules == book.rules


def test_shipped_rules_carry_the_notice() -> None:
    shipped = load_shipped_rules()
    assert len(shipped.rules) == 222
    assert shipped.source.startswith("gitleaks config/gitleaks.toml (minVersion v8.25.0")
    raw = (ROOT / "src/ztai/protection/data/gitleaks_rules.json").read_text(encoding="utf-8")
    assert "Permission is hereby granted" in json.loads(raw)["license"]


def test_shipped_rules_skip_only_the_path_only_rule() -> None:
    detector = SecretDetector.build()
    assert [s.rule_id for s in detector.skipped] == ["pkcs12-file"]
    assert len(detector.rule_ids) == 221


@pytest.mark.parametrize("text", [
    "not json",
    "[]",
    '{"rules": {}}',
    '{"rules": [{"regex": "x"}]}',
    '{"rules": [{"id": 5}]}',
    '{"rules": [{"id": "a", "keywords": ["k", 1]}]}',
    '{"rules": [{"id": "a", "entropy": "high"}]}',
    '{"rules": [{"id": "a", "secret_group": true}]}',
    '{"rules": [{"id": "a", "allowlists": [{"target": "file"}]}]}',
    '{"rules": [{"id": "a", "allowlists": [{"condition": "XOR"}]}]}',
    '{"rules": [], "allowlists": ["x"]}',
])
def test_malformed_rule_files_are_refused(text: str) -> None:
    with pytest.raises(RuleFileError):
        parse_rule_book(text)


def test_a_global_allowlist_that_does_not_compile_refuses_the_build() -> None:
    book = parse_rule_book('{"rules": [], "allowlists": [{"regexes": ["(?<=x)y"]}]}')
    with pytest.raises(AllowlistError):
        SecretDetector.build(book=book)

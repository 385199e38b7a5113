"""``SecretDetector``: the gitleaks rules plus the built-in formats (private keys, JWTs,
connection strings, optionally high-entropy tokens) behind the ``Detector`` interface. Built once
at start; ``detect`` is linear in the text (RE2 only) and never raises. Kinds are
``secret.<rule id>``; each span covers the secret itself, so redaction masks exactly it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ztai.protection.model import Match
from ztai.protection.normalize import Normalizer
from ztai.protection.secrets_builtin import ConnectionStringScanner, JwtScanner, PrivateKeyScanner
from ztai.protection.secrets_compile import CompiledRuleSet, SkippedRule, compile_rule_book
from ztai.protection.secrets_engine import GitleaksScanner
from ztai.protection.secrets_entropy import HIGH_ENTROPY, HighEntropyPolicy, HighEntropyScanner
from ztai.protection.secrets_rules import RuleBook, load_shipped_rules
from ztai.protection.secrets_text import ByteMatch, ByteScanner, ScanText, to_matches


@dataclass(frozen=True, slots=True)
class SecretDetectorConfig:
    """``high_entropy``: None (the default) leaves the generic entropy detector off."""

    builtins: bool = True
    high_entropy: HighEntropyPolicy | None = None


class SecretDetector:
    """Reads the text as normalised (``ztai.protection.normalize``): a key with zero-width or
    soft-hyphen characters between its letters, or written in fullwidth forms, reads the same
    to a person or a script that strips them, so it is found; each span covers the original
    characters, the invisible ones inside it too."""

    name = "secrets"

    def __init__(
        self, scanners: Sequence[ByteScanner], rules: CompiledRuleSet | None = None
    ) -> None:
        self._scanners = tuple(scanners)
        in_use = rules.rules if rules else ()
        self.rule_ids: tuple[str, ...] = tuple(r.rule.id for r in in_use)
        self.skipped: tuple[SkippedRule, ...] = rules.skipped if rules else ()
        # gitleaks limits these to some file names; a prompt has none, so they apply to all text
        self.unscoped: tuple[str, ...] = tuple(r.rule.id for r in in_use if r.rule.path)
        self._normalizer = Normalizer()

    @classmethod
    def build(
        cls, config: SecretDetectorConfig | None = None, book: RuleBook | None = None
    ) -> SecretDetector:
        """Compile ``book`` (default: the shipped gitleaks rules). Rules RE2 cannot compile
        are listed in ``skipped``; a global allowlist that does not compile raises
        ``AllowlistError``."""
        config = config or SecretDetectorConfig()
        rules = compile_rule_book(book or load_shipped_rules())
        scanners: list[ByteScanner] = [GitleaksScanner(rules)]
        if config.builtins:
            scanners += [PrivateKeyScanner(), JwtScanner(), ConnectionStringScanner()]
        if config.high_entropy is not None:
            scanners.append(HighEntropyScanner(config.high_entropy))
        return cls(scanners, rules)

    def detect(self, text: str) -> list[Match]:
        if text.isascii():  # its own normal form
            return self._detect(text)
        normalized = self._normalizer.normalize(text)
        if normalized.text == text:
            return self._detect(text)
        return [normalized.on_original(m) for m in self._detect(normalized.text)]

    def _detect(self, text: str) -> list[Match]:
        scan = ScanText.of(text)
        found = [m for s in self._scanners for m in s.scan(scan)]
        return to_matches(scan, resolve(found)) if found else []


def is_generic(kind: str) -> bool:
    return "generic" in kind or kind == HIGH_ENTROPY


def resolve(found: Sequence[ByteMatch]) -> list[ByteMatch]:
    """One finding per (kind, span); a generic finding inside a specific one is dropped, as
    gitleaks lets a named rule take precedence over ``generic-api-key``."""
    unique = list({(m.kind, m.start, m.end): m for m in reversed(found)}.values())
    specific = sorted((m for m in unique if not is_generic(m.kind)), key=lambda m: m.start)
    generic = sorted((m for m in unique if is_generic(m.kind)), key=lambda m: m.start)
    kept, reach, index = list(specific), -1, 0
    for candidate in generic:
        while index < len(specific) and specific[index].start <= candidate.start:
            reach = max(reach, specific[index].end)
            index += 1
        if reach < candidate.end:
            kept.append(candidate)
    return kept

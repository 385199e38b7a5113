"""The classify stage assembled from settings: detectors, sensitive terms, fingerprints of
protected documents and the label scheme. Problems (an unreadable protected document, an
unknown label) stop the start with a message naming the setting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ztai.config.settings import ConfigError, Settings
from ztai.core.flow import RequestStage
from ztai.gateway.answer import AnswerPolicy
from ztai.gateway.canary import CanaryStage
from ztai.gateway.classify import Classifier, ClassifyStage
from ztai.gateway.protect import ProtectStage
from ztai.gateway.shield import ExfiltrationDetector, ShieldStage
from ztai.policy.interface import RuleMatcher
from ztai.protection.encoded import EncodedContent
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.interface import Detector
from ztai.protection.labels import LabelRule, LabelScheme
from ztai.protection.pii import default_pii_detector, structured_pii_detector
from ztai.protection.pii_ner import NerUnavailableError, default_with_ner_pii_detector
from ztai.protection.secrets_detector import SecretDetector
from ztai.protection.terms import EmptyTermListError, TermDetector
from ztai.threats.classifier import ModelFileError
from ztai.threats.output import OutputInspector, OutputPolicy
from ztai.threats.shield import Sensitivity, Shield


@dataclass(frozen=True, slots=True)
class Protection:
    """The stages data protection adds: ``classify`` runs before authorize, ``protect`` after
    it; ``answers`` scans what comes back (None when ``protection.responses`` is off)."""

    classify: ClassifyStage | None
    detect: ShieldStage | None
    protect: ProtectStage
    answers: AnswerPolicy | None
    canary: CanaryStage | None = None
    fingerprints: FingerprintIndex | None = None  # the protected documents the classify stage knows


# a protected document known by its fingerprints alone: (id, winnowed hashes, label)
Printed = tuple[str, tuple[int, ...], str | None]


def build_protection(settings: Settings, rules: RuleMatcher, printed: Sequence[Printed] = (),
                     followed: bool = False) -> Protection | None:
    """``printed``: documents of the knowledge bases that carry fingerprints (the sensitive
    ones), so pasting them is detected like the configured protected documents; ``followed``:
    more may come while serving (the fingerprint index exists even if empty at start)."""
    protection, shield = settings.protection, settings.shield
    if not protection.enabled and not shield.enabled:
        return None
    try:
        scheme = LabelScheme(protection.labels, tuple(
            LabelRule(rule.kinds, rule.label) for rule in protection.label_rules),
            protection.label_ids)
    except ValueError as exc:
        raise ConfigError(f"protection.labels / label_rules / label_ids: {exc}") from exc
    detectors: tuple[Detector, ...] = _detectors(settings) if protection.enabled else ()
    fingerprints = _fingerprints(settings, scheme, printed, followed) \
        if protection.enabled else None
    # the classify stage remembers what it found in a caller's texts; answers are new, scanned
    # afresh
    classify = ClassifyStage(Classifier(detectors, scheme, fingerprints)) \
        if protection.enabled else None
    detect = ShieldStage(_shield(settings)) if shield.enabled else None
    if shield.enabled and shield.answers:
        inspector = OutputInspector(OutputPolicy(frozenset(shield.allowed_domains)))
        detectors = (*detectors, ExfiltrationDetector(inspector))
    answers = AnswerPolicy(detectors, scheme, rules) \
        if detectors and (protection.responses or shield.answers) else None
    if shield.enabled and shield.canaries and answers is None:
        raise ConfigError("shield.canaries: answers are not scanned; turn on shield.answers "
                          "or protection.responses")
    canary = CanaryStage() if shield.enabled and shield.canaries else None
    return Protection(classify, detect, ProtectStage(rules), answers, canary, fingerprints)


def _shield(settings: Settings) -> Shield:
    try:
        return Shield(sensitivity=Sensitivity(settings.shield.sensitivity))
    except ModelFileError as exc:
        raise ConfigError(f"shield: {exc}") from exc


def request_stages(protection: Protection | None, authorize: RequestStage
                   ) -> list[RequestStage]:
    """classify → detect → authorize → protect (→ canary), or authorize alone."""
    if protection is None:
        return [authorize]
    before = [stage for stage in (protection.classify, protection.detect) if stage is not None]
    after = [protection.canary] if protection.canary is not None else []
    return [*before, authorize, protection.protect, *after]


def _detectors(settings: Settings) -> tuple[Detector, ...]:
    protection = settings.protection
    found: list[Detector] = []
    if protection.secrets:
        found.append(SecretDetector.build())
    if protection.pii:
        found.append(_pii(protection.phone_regions, protection.pii_names, protection.pii_ner))
    if protection.terms:
        try:
            found.append(TermDetector.from_groups(
                {slug: list(phrases) for slug, phrases in protection.terms.items()}))
        except EmptyTermListError as exc:
            raise ConfigError(f"protection.terms: {exc}") from exc
    if protection.encoded and found:
        found.append(EncodedContent(tuple(found)))
    return tuple(found)


def _pii(regions: tuple[str, ...], names: bool, ner: bool) -> Detector:
    if ner:
        try:
            return default_with_ner_pii_detector(regions)
        except NerUnavailableError as exc:
            raise ConfigError(f"protection.pii_ner: {exc}") from exc
    return default_pii_detector(regions) if names else structured_pii_detector(regions)


def _fingerprints(settings: Settings, scheme: LabelScheme, printed: Sequence[Printed],
                  followed: bool) -> FingerprintIndex | None:
    documents = settings.protection.fingerprints
    if not documents and not printed and not followed:
        return None
    index = FingerprintIndex()
    for name, prints, label in printed:
        index.add_prints(name, prints, label)
    for document in documents:
        try:
            scheme.rank(document.label)
            text = settings.path(document.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"protection.fingerprints {document.id!r}: {exc}") from exc
        if index.add(document.id, text, document.label) == 0:
            raise ConfigError(f"protection.fingerprints {document.id!r}: too short to "
                              "fingerprint (fewer than 8 words)")
    return index

"""The classify stage assembled from settings: detectors, sensitive terms, fingerprints of
protected documents and the label scheme. Problems (an unreadable protected document, an
unknown label) stop the start with a message naming the setting."""

from __future__ import annotations

from dataclasses import dataclass

from ztai.config.settings import ConfigError, Settings
from ztai.core.flow import RequestStage
from ztai.gateway.answer import AnswerPolicy
from ztai.gateway.classify import Classifier, ClassifyStage
from ztai.gateway.protect import ProtectStage
from ztai.policy.interface import RuleMatcher
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.interface import Detector
from ztai.protection.labels import LabelRule, LabelScheme
from ztai.protection.pii import default_pii_detector, structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector
from ztai.protection.terms import EmptyTermListError, TermDetector


@dataclass(frozen=True, slots=True)
class Protection:
    """The stages data protection adds: ``classify`` runs before authorize, ``protect`` after
    it; ``answers`` scans what comes back (None when ``protection.responses`` is off)."""

    classify: ClassifyStage
    protect: ProtectStage
    answers: AnswerPolicy | None


def build_protection(settings: Settings, rules: RuleMatcher) -> Protection | None:
    protection = settings.protection
    if not protection.enabled:
        return None
    try:
        scheme = LabelScheme(protection.labels, tuple(
            LabelRule(rule.kinds, rule.label) for rule in protection.label_rules),
            protection.label_ids)
    except ValueError as exc:
        raise ConfigError(f"protection.labels / label_rules / label_ids: {exc}") from exc
    detectors = _detectors(settings)
    classify = ClassifyStage(Classifier(detectors, scheme, _fingerprints(settings, scheme)))
    answers = AnswerPolicy(detectors, scheme, rules) if protection.responses else None
    return Protection(classify, ProtectStage(rules), answers)


def request_stages(protection: Protection | None, authorize: RequestStage
                   ) -> list[RequestStage]:
    """classify → authorize → protect, or authorize alone."""
    if protection is None:
        return [authorize]
    return [protection.classify, authorize, protection.protect]


def _detectors(settings: Settings) -> tuple[Detector, ...]:
    protection = settings.protection
    found: list[Detector] = []
    if protection.secrets:
        found.append(SecretDetector.build())
    if protection.pii:
        regions = protection.phone_regions
        found.append(default_pii_detector(regions) if protection.pii_names
                     else structured_pii_detector(regions))
    if protection.terms:
        try:
            found.append(TermDetector.from_groups(
                {slug: list(phrases) for slug, phrases in protection.terms.items()}))
        except EmptyTermListError as exc:
            raise ConfigError(f"protection.terms: {exc}") from exc
    return tuple(found)


def _fingerprints(settings: Settings, scheme: LabelScheme) -> FingerprintIndex | None:
    documents = settings.protection.fingerprints
    if not documents:
        return None
    index = FingerprintIndex()
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

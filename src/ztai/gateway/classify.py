"""The classify stage: every segment of the request is scanned by the detectors (PII, secrets,
sensitive terms, document fingerprints); the findings and the content's sensitivity label go
into the policy context, so Cedar decides per label, finding kind and destination tier.

Requests repeat what earlier ones carried (a conversation's history, system prompts, tool
definitions): the detectors' findings for a text are remembered per caller (``ztai.core.memo``:
by digest, bounded), so a text the same caller sent recently is not scanned again, and how fast
a request is answered tells nothing of what other callers sent. Fingerprints are looked up every
time (protected documents may be registered while serving)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ztai.core.errors import BadRequest
from ztai.core.flow import Flow
from ztai.core.memo import DigestMemo
from ztai.core.model import Decision, Finding, Span
from ztai.gateway.control import ref
from ztai.protection.fingerprint import FingerprintIndex
from ztai.protection.interface import Detector
from ztai.protection.labels import LabelScheme, UnknownLabel


@dataclass(frozen=True, slots=True)
class Classifier:
    detectors: Sequence[Detector]
    scheme: LabelScheme
    fingerprints: FingerprintIndex | None = None


MAX_REMEMBERED_TEXTS = 4096
# what the detectors found in a text: kind, start, end, score, detector
Found = tuple[str, int, int, float, str]


class ClassifyStage:
    name = "classify"
    suspends = False  # run() never awaits: the pipeline runs it to completion

    def __init__(self, classifier: Classifier, remembered: int = MAX_REMEMBERED_TEXTS) -> None:
        self._c = classifier
        self._memo: DigestMemo[tuple[Found, ...]] = DigestMemo(remembered)

    async def run(self, flow: Flow) -> Decision | None:
        documents: dict[str, str | None] = {}
        caller = ref(flow.principal)
        for index, segment in enumerate(flow.exchange.segments):
            flow.findings.extend(self._scan(index, segment.text, documents, caller))
        kinds = sorted({f.kind for f in flow.findings})
        try:
            label = self._c.scheme.highest([
                *(label for s in flow.exchange.segments for label in s.labels),
                *documents.values(), self._c.scheme.derive(kinds)])
        except UnknownLabel as exc:  # a label the caller attached (ztai_label)
            raise BadRequest(str(exc), param="ztai_label") from None
        flow.context.update({
            "finding_kinds": tuple(kinds),
            "finding_families": families(kinds),
            "content_label": label or self._c.scheme.order[0],
            "content_label_rank": self._c.scheme.rank(label) if label else 0,
            "fingerprint_documents": tuple(sorted(documents)),
            "unscanned_parts": _count(flow.exchange.signals.get("unscanned_parts")),
        })
        return None

    def _scan(self, index: int, text: str, documents: dict[str, str | None], caller: str
              ) -> list[Finding]:
        found = [Finding(kind, index, Span(start, end), score, detector)
                 for kind, start, end, score, detector in self._memo.get(text, self._detect,
                                                                         caller)]
        if self._c.fingerprints is not None:
            for match in self._c.fingerprints.find(text):
                documents[match.document] = match.label
                found.append(Finding("fingerprint.match", index, Span(match.start, match.end),
                                     match.coverage, f"fingerprint:{match.document}"))
        return found

    def _detect(self, text: str) -> tuple[Found, ...]:
        return tuple((m.kind, m.start, m.end, m.score, m.detector or d.name)
                     for d in self._c.detectors for m in d.detect(text))


def families(kinds: Iterable[str]) -> tuple[str, ...]:
    """``pii.email``, ``secret.aws-access-token`` → ``("pii", "secret")``: what policies test
    when any finding of a family matters (Cedar sets have no wildcards)."""
    return tuple(sorted({kind.partition(".")[0] for kind in kinds}))


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

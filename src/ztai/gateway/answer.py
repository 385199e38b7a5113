"""What comes back is protected too. The answer is scanned by the same detectors as the request
(before any pseudonym is restored: the model's own words), the DLP rules decide with
``direction: "response"`` and the answer's findings in the context (block, or redact; audit and
justify only note), pseudonyms are put back, and the answer's label is the highest of the
request's label and its own findings'. Streams go through ``holdback.TextWindow``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ztai.core.flow import Flow
from ztai.core.model import Decision, Effect, Finding, Obligation, Span
from ztai.gateway.classify import families
from ztai.gateway.obligations import DLP_BLOCK
from ztai.gateway.protect import methods_for, rules_holding
from ztai.policy.interface import RuleMatcher
from ztai.protection.interface import Detector
from ztai.protection.labels import LabelScheme
from ztai.protection.model import Match
from ztai.protection.redact import Redaction, redact

ANSWER_SEGMENT = -1  # findings in the answer are audited with this segment index


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """Built once: the detectors, the label scheme and the DLP rules."""

    detectors: Sequence[Detector]
    scheme: LabelScheme
    rules: RuleMatcher | None = None
    # for what the provider puts beside the model's text: the detectors but those that judge
    # the model's words (``model_words_only``: a citation's address is no exfiltration)
    data_detectors: tuple[Detector, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_detectors", tuple(
            d for d in self.detectors if not getattr(d, "model_words_only", False)))

    def guard(self, flow: Flow) -> AnswerGuard:
        return AnswerGuard(self, flow)


class Blocked(Exception):  # a verdict, not a failure
    """A DLP rule blocks the answer; ``decision`` says which and why."""

    def __init__(self, decision: Decision) -> None:
        super().__init__("; ".join(decision.reasons))
        self.decision = decision


@dataclass(slots=True)
class AnswerGuard:
    """Per exchange. ``detect`` finds spans; ``clean`` applies the rules to a finished piece of
    text and records its findings; ``label`` is the answer's label so far."""

    policy: AnswerPolicy
    flow: Flow
    kinds: set[str] = field(default_factory=set)
    _decided: dict[frozenset[str], dict[str, Redaction]] = field(default_factory=dict)

    def detect(self, text: str, provider: bool = False) -> list[Match]:
        """Findings in ``text``: the model's words, or (``provider``) what the provider put
        beside them, read by data protection only (``ReplyReader.extra_pieces``)."""
        if provider:
            return [m for d in self.policy.data_detectors for m in d.detect(text)]
        found = [m for d in self.policy.detectors for m in d.detect(text)]
        for watch in self.flow.watches:
            found.extend(Match(m.kind, m.start, m.end, m.score, m.detector or watch.name)
                         for m in watch.detect(text))
        return found

    def clean(self, text: str, matches: Iterable[Match], offset: int = 0,
              record: bool = True) -> str:
        """``text`` with the findings in ``matches`` (spans within ``text``) dealt with:
        ``Blocked`` if a rule blocks one, redacted where a rule says so, then pseudonyms
        restored. ``offset`` places ``text`` in the whole answer for the audit record;
        ``record=False`` for a copy of text already recorded (a stream's final summary)."""
        found = [m for m in matches if m.end > m.start]
        for m in found if record else ():
            self.flow.findings.append(Finding(m.kind, ANSWER_SEGMENT,
                                              Span(offset + m.start, offset + m.end),
                                              m.score, m.detector))
        if found:
            self.kinds.update(m.kind for m in found)
            how = self._actions(frozenset(m.kind for m in found))
            if how:
                text = redact(text, found, how).text
                self.flow.notes["answer_redacted"] = True
        restorer = self.flow.restorer
        return restorer.restore(text) if restorer is not None else text

    def refuse_split(self, crossing: Sequence[Match]) -> None:
        """Findings that cross events which cannot be cut: if the rules would block or redact
        any of them, block (the part before the cut cannot be taken back)."""
        if crossing and self._actions(frozenset(m.kind for m in crossing)):
            raise Blocked(Decision(Effect.DENY, (
                "a finding the DLP rules act on crosses stream events that cannot be cut; "
                "blocked to fail closed",), (), (Obligation(DLP_BLOCK),)))

    def label(self) -> str:
        request = self.flow.context.get("content_label")
        derived = self.policy.scheme.derive(self.kinds)
        return self.policy.scheme.highest([request if isinstance(request, str) else None,
                                           derived]) or self.policy.scheme.order[0]

    def _actions(self, kinds: frozenset[str]) -> dict[str, Redaction]:
        """What the rules say for these answer findings (remembered per set of kinds)."""
        decided = self._decided.get(kinds)
        if decided is not None:
            return decided
        rules = self.policy.rules
        held = () if rules is None else rules_holding(rules, self.flow, self._context(kinds))
        blocks = [r for r in held if r.action == "block"]
        if blocks:
            raise Blocked(Decision(Effect.DENY, tuple(r.reason for r in blocks),
                                   tuple(r.id for r in blocks), (Obligation(DLP_BLOCK),)))
        if held:
            noted = str(self.flow.notes.get("answer_dlp_rules", "")).split()
            self.flow.notes["answer_dlp_rules"] = " ".join(
                dict.fromkeys([*noted, *(r.id for r in held)]))
        how = methods_for(kinds, [r for r in held if r.action == "redact"])
        # the answer goes to the user, not to an outside model: nothing to restore later
        decided = {k: Redaction.PLACEHOLDER if m is Redaction.PSEUDONYMISE else m
                   for k, m in how.items()}
        self._decided[kinds] = decided
        return decided

    def _context(self, kinds: frozenset[str]) -> dict[str, object]:
        scheme, label = self.policy.scheme, self.label()
        every = kinds | self.kinds
        return {**self.flow.context, "direction": "response",
                "finding_kinds": tuple(sorted(every)),
                "finding_families": families(every),
                "content_label": label, "content_label_rank": scheme.rank(label)}

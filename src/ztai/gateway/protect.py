"""The protect stage: after Cedar allowed the request, the DLP rules (``@dlp`` permits, decided
on the same principal, resource, labels and findings) say what happens to the content.

    block    deny (403 ``dlp_blocked``)
    justify  deny (403 ``justification_required``) unless the caller says why, in
             ``X-Ztai-Justification``; the reason is audited
    redact   replace the findings of ``@kinds`` with ``@method`` in what the upstream receives
             (mask, hash, typed placeholder, or pseudonyms restored in the answer)
    audit    let it pass, marked in the audit event

Every rule that holds is noted in the audit event. Rules are asked only when the request has
findings or a label above the lowest: clean traffic costs nothing here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from ztai.core.flow import Flow
from ztai.core.model import Decision, Effect, Finding, Obligation
from ztai.gateway.obligations import DLP_BLOCK, JUSTIFY
from ztai.gateway.trail import masked_credentials
from ztai.policy.interface import AuthzRequest, RuleMatcher
from ztai.policy.model import DLP_ACTIONS, DlpRule
from ztai.protection.model import Match
from ztai.protection.redact import STRENGTH, Redaction, Vault, redact


class ProtectStage:
    name = "protect"
    suspends = False  # run() never awaits: the pipeline runs it to completion

    def __init__(self, rules: RuleMatcher) -> None:
        self._rules = rules

    async def run(self, flow: Flow) -> Decision | None:
        if not flow.findings and not flow.context.get("content_label_rank"):
            return None
        held = _effective(rules_holding(self._rules, flow), flow.findings)
        if not held:
            return None
        flow.notes["dlp_rules"] = " ".join(rule.id for rule in held)
        flow.notes["dlp_action"] = held[0].action
        denied = _denial(held, flow)
        if denied is not None:
            return denied
        redacting = [rule for rule in held if rule.action == "redact"]
        if redacting:
            apply_redaction(flow, redacting)
        return None


def rules_holding(rules: RuleMatcher, flow: Flow,
                  context: dict[str, object] | None = None) -> tuple[DlpRule, ...]:
    """The rules that hold for anyone in the delegation chain (a rule about the user applies
    to the agent acting for them), strongest action first, each once."""
    exchange, found = flow.exchange, dict[str, DlpRule]()
    for principal in flow.principal.chain():
        request = AuthzRequest(principal, exchange.action, exchange.resource,
                               flow.context if context is None else context)
        for rule in rules.rules_for(request):
            found.setdefault(rule.id, rule)
    return tuple(sorted(found.values(), key=lambda r: (DLP_ACTIONS.index(r.action), r.id)))


def _effective(held: Sequence[DlpRule], findings: Sequence[Finding]) -> list[DlpRule]:
    """The rules that act here: a redact rule only where it has a finding to replace."""
    kinds = {f.kind for f in findings}
    return [r for r in held if r.action != "redact"
            or any(fnmatchcase(k, p) for k in kinds for p in r.kinds)]


def _denial(held: Sequence[DlpRule], flow: Flow) -> Decision | None:
    blocks = [rule for rule in held if rule.action == "block"]
    if blocks:
        return _deny(blocks, DLP_BLOCK)
    asks = [rule for rule in held if rule.action == "justify"]
    if not asks:
        return None
    if flow.meta.justification is None:
        return _deny(asks, JUSTIFY)
    # audited as written, but for a credential in it (found 2026-11-28: kept in clear)
    flow.notes["justification"] = masked_credentials(flow.meta.justification)
    return None


def _deny(rules: Sequence[DlpRule], obligation: str) -> Decision:
    return Decision(Effect.DENY, tuple(r.reason for r in rules), tuple(r.id for r in rules),
                    (Obligation(obligation),))


def methods_for(kinds: Iterable[str], rules: Sequence[DlpRule]) -> dict[str, Redaction]:
    """Per finding kind, the strongest method of the redact rules naming it (an irreversible
    method wins over a reversible one); kinds no rule names are left alone."""
    chosen: dict[str, Redaction] = {}
    for kind in kinds:
        methods = [r.method for r in rules if any(fnmatchcase(kind, p) for p in r.kinds)]
        if methods:
            chosen[kind] = Redaction(max(methods, key=STRENGTH.index))
    return chosen


def apply_redaction(flow: Flow, rules: Sequence[DlpRule]) -> None:
    """Rewrite each segment holding a finding to redact; a pseudonymising rule gives the flow a
    vault so that the answer can be restored."""
    how = methods_for({f.kind for f in flow.findings}, rules)
    by_segment: dict[int, list[Finding]] = defaultdict(list)
    for finding in flow.findings:
        if finding.kind in how:
            by_segment[finding.segment].append(finding)
    vault = Vault() if Redaction.PSEUDONYMISE in how.values() else None
    replaced = 0
    for index, findings in sorted(by_segment.items()):
        text = flow.exchange.segments[index].text  # finding spans are in the original
        matches = [Match(f.kind, f.span.start, f.span.end) for f in findings]
        result = redact(text, matches, how, vault)
        flow.rewrites[index] = result.text
        replaced += result.replaced
    if vault is not None and len(vault):
        flow.restorer = vault
    flow.notes["redacted"] = replaced
    kinds = {f.kind for findings in by_segment.values() for f in findings}
    flow.notes["redacted_kinds"] = " ".join(sorted(kinds))

"""How a deny that carries an obligation is told to the caller: step-up (RFC 9470), accept the
terms of use, ask for just-in-time approval, give a justification, or (DLP) blocked content.
Without an obligation a deny is a plain 403."""

from __future__ import annotations

from ztai.core.model import Decision, Obligation

STEP_UP = "step_up"
ACCEPT_TERMS = "accept_terms"
REQUIRE_APPROVAL = "require_approval"
HOLD = "hold"  # a tool call held for a person's approval
DLP_BLOCK = "dlp_block"  # a DLP rule blocked the content
JUSTIFY = "justify"  # a DLP rule wants the caller's reason first


def denial_status(decision: Decision) -> int:
    return 401 if _first(decision, STEP_UP) is not None else 403


def denial_code(decision: Decision) -> str:
    for kind, code in ((STEP_UP, "insufficient_user_authentication"),
                       (ACCEPT_TERMS, "terms_not_accepted"),
                       (REQUIRE_APPROVAL, "approval_required"),
                       (HOLD, "held_for_approval"),
                       (DLP_BLOCK, "dlp_blocked"),
                       (JUSTIFY, "justification_required")):
        if _first(decision, kind) is not None:
            return code
    return "policy_denied"


def denial_headers(decision: Decision) -> dict[str, str]:
    step_up = _first(decision, STEP_UP)
    if step_up is None:
        return {}
    challenge = ['Bearer error="insufficient_user_authentication"',
                 'error_description="a stronger authentication is required"']
    for name in ("acr_values", "max_age"):
        value = step_up.params.get(name)
        if value and _is_token(value):
            challenge.append(f'{name}="{value}"')
    return {"www-authenticate": ", ".join(challenge)}


def denial_hint(decision: Decision) -> str:
    terms = _first(decision, ACCEPT_TERMS)
    if terms is not None:
        app = terms.params.get("terms", "default")
        return f"; accept the terms of use: POST /v1/terms/accept with {{\"app\": \"{app}\"}}"
    if _first(decision, REQUIRE_APPROVAL) is not None:
        return "; request just-in-time access (ztai access request) and wait for approval"
    if _first(decision, JUSTIFY) is not None:
        return "; say why you need this: resend with the header X-Ztai-Justification: <reason>"
    return ""


def _first(decision: Decision, kind: str) -> Obligation | None:
    return next((o for o in decision.obligations if o.kind == kind), None)


def _is_token(value: str) -> bool:
    """Only plain values go into a header: no quotes, no control characters."""
    return all(c.isalnum() or c in " .:_-/" for c in value)

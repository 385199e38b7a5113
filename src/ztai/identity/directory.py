"""Whether an agent may act now: the directory the agent store implements, and the checks run
when it asks for a token and again on every request its tokens make."""

from __future__ import annotations

from typing import Protocol

from ztai.core.model import Principal, PrincipalKind
from ztai.identity.failure import AuthCode, auth_failure
from ztai.identity.model import AgentRecord


class AgentDirectory(Protocol):
    def agent(self, agent_id: str) -> AgentRecord | None:
        """The registered agent, or None if there is none (or it was deleted)."""
        ...

    def is_sponsor_active(self, sponsor: str) -> bool:
        """False once the sponsor is disabled or deleted: their agents stop with them."""
        ...


def active_agent(directory: AgentDirectory, agent_id: str, now: float) -> AgentRecord:
    """The agent's record if it may act now; ``AuthenticationFailed`` (``unknown_client``,
    ``agent_disabled``, ``agent_expired``, ``sponsor_inactive``) if not."""
    record = directory.agent(agent_id)
    if record is None:
        raise auth_failure(AuthCode.UNKNOWN_CLIENT)
    if record.disabled:
        raise auth_failure(AuthCode.AGENT_DISABLED)
    if record.expires_at is not None and now >= record.expires_at:
        raise auth_failure(AuthCode.AGENT_EXPIRED)
    if not directory.is_sponsor_active(record.sponsor):
        raise auth_failure(AuthCode.SPONSOR_INACTIVE)
    return record


def check_chain(principal: Principal, directory: AgentDirectory, issuer: str, now: float) -> None:
    """Every agent in the delegation chain that ``issuer`` (ztai) vouched for must still be
    active; agents asserted by an outside identity provider are that provider's business."""
    for party in principal.chain():
        if party.kind is PrincipalKind.AGENT and party.issuer == issuer:
            active_agent(directory, party.id, now)

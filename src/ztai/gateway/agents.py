"""The agent directory the identity capability asks, served from the cached control state: an
agent is usable while registered, enabled, unexpired and not revoked, and while its sponsor is
not disabled."""

from __future__ import annotations

from ztai.gateway.control import ControlView
from ztai.identity.model import AgentRecord


class ControlAgentDirectory:
    def __init__(self, view: ControlView) -> None:
        self._view = view

    def agent(self, agent_id: str) -> AgentRecord | None:
        state = self._view.current()
        stored = state.agents.get(agent_id)
        if stored is None:
            return None
        return AgentRecord(
            id=stored.agent_id, sponsor=stored.sponsor, public_jwk=stored.public_jwk,
            allowed_models=stored.allowed_models, groups=stored.groups,
            expires_at=stored.expires_at,
            disabled=stored.disabled or state.is_revoked("agent", agent_id),
        )

    def is_sponsor_active(self, sponsor: str) -> bool:
        return not self._view.current().is_revoked("user", sponsor)

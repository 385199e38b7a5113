"""Verify explicitly, on every request: the principal (and everyone up its delegation chain)
is still enabled, its token, session and sponsor are not revoked; roles granted just in time
join its groups while valid; and the conditional-access signals go into the policy context."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Protocol

from ztai.core.clock import Clock
from ztai.core.errors import AuthenticationFailed
from ztai.core.flow import Flow
from ztai.core.model import Decision, Principal, PrincipalKind
from ztai.gateway.clientinfo import Network, network_name
from ztai.gateway.control import ControlSnapshot, ControlView, ref

MFA_METHODS = frozenset({"mfa", "otp", "hwk", "swk", "fpt", "face", "iris", "retina", "sc"})


@dataclasses.dataclass(frozen=True, slots=True)
class SignalOptions:
    networks: Mapping[str, Sequence[Network]] = dataclasses.field(default_factory=dict)
    terms: Mapping[str, str] = dataclasses.field(default_factory=dict)  # app -> current version
    model_terms: Mapping[str, str] = dataclasses.field(default_factory=dict)  # model -> app
    mfa_acr_values: frozenset[str] = frozenset()
    # A person's sign-in is good for this long, whatever the token's own lifetime (None: no cap).
    max_session_age_s: float | None = None


class VerifyStage:
    name = "verify"
    suspends = False  # run() never awaits: the pipeline runs it to completion

    def __init__(self, view: ControlView, clock: Clock, options: SignalOptions,
                 device: DeviceCheck | None = None) -> None:
        self._view, self._clock, self._options, self._device = view, clock, options, device

    async def run(self, flow: Flow) -> Decision | None:
        state, now = self._view.current(), self._clock.now()
        for principal in flow.principal.chain():
            _check_alive(principal, state, now)
        _check_session_age(flow.principal.chain()[0], now, self._options.max_session_age_s)
        flow.principal = _elevated(flow.principal, state, now)
        flow.context.update(self._signals(flow, state, now))
        return None

    def _signals(self, flow: Flow, state: ControlSnapshot, now: float) -> dict[str, object]:
        principal, meta = flow.principal, flow.meta
        origin = principal.chain()[0]
        when = dt.datetime.fromtimestamp(now, dt.UTC)
        signals: dict[str, object] = {
            "mfa": bool(origin.amr & MFA_METHODS) or origin.acr in self._options.mfa_acr_values,
            "amr": tuple(sorted(origin.amr)),
            "auth_strength": origin.acr or "",
            "client_ip": meta.client_ip,
            "network": network_name(meta.client_ip, self._options.networks),
            "hour": when.hour,
            "weekday": when.isoweekday(),
            "risk_level": max((state.risk.get(ref(p), "none") for p in principal.chain()),
                              key=RISK_ORDER.index),
            "delegated": principal.acting_for is not None,
            "on_behalf_of": origin.id if principal.acting_for is not None else "",
            "device_compliant": self._device is not None and self._device.compliant(flow, now),
            "session_age_s": _session_age(origin, now),
        }
        app = self._terms_app(flow)
        if app is not None:
            version = self._options.terms.get(app, "")
            signals["terms_accepted"] = (ref(origin), app, version) in state.accepted
        return signals

    def _terms_app(self, flow: Flow) -> str | None:
        app = self._options.model_terms.get(flow.exchange.resource.id)
        if app is None and "default" in self._options.terms:
            return "default"
        return app


RISK_ORDER = ("none", "minor", "moderate", "elevated")


class DeviceCheck(Protocol):
    """Whether the request's device is compliant: a verified device claim, or a client
    certificate a trusted proxy verified (``gateway/device.py``). Unknown means no."""

    def compliant(self, flow: Flow, now: float) -> bool: ...


def _check_alive(principal: Principal, state: ControlSnapshot, now: float) -> None:
    kind = principal.kind.value
    if state.is_revoked(kind, principal.id):
        raise AuthenticationFailed(f"{kind} {principal.id!r} is disabled",
                                   code="principal_disabled")
    token_kind = "key" if principal.auth_method == "api_key" else "token"
    if state.is_revoked(token_kind, principal.credential_id or None):
        raise AuthenticationFailed(f"this {token_kind} was revoked", code="credential_revoked")
    if state.is_revoked("session", principal.session_id):
        raise AuthenticationFailed("this session was revoked", code="session_revoked")
    if principal.kind is PrincipalKind.AGENT and principal.auth_method != "api_key":
        _check_agent(principal, state, now)


def _check_agent(principal: Principal, state: ControlSnapshot, now: float) -> None:
    agent = state.agents.get(principal.id)
    if agent is None or not agent.is_active(now):
        raise AuthenticationFailed(f"agent {principal.id!r} is not active", code="agent_disabled")
    if state.is_revoked("user", agent.sponsor):
        raise AuthenticationFailed(f"the sponsor of agent {principal.id!r} is disabled",
                                   code="agent_disabled")


def _session_age(origin: Principal, now: float) -> int:
    """Whole seconds since the person signed in; -1 where no sign-in stands behind the request."""
    if origin.authenticated_at is None:
        return -1
    return max(0, int(now - origin.authenticated_at))


def _check_session_age(origin: Principal, now: float, limit: float | None) -> None:
    """A person's token is refused once their sign-in is older than ``limit``; one that does not
    say when they signed in is refused too (fail closed). API keys and agents acting on their
    own have no sign-in session: their keys and short-lived tokens bound them instead."""
    if limit is None or origin.kind is not PrincipalKind.USER or origin.auth_method == "api_key":
        return
    if origin.authenticated_at is None:
        raise AuthenticationFailed("the token does not say when the user signed in",
                                   code="session_age_unknown")
    if now - origin.authenticated_at > limit:
        raise AuthenticationFailed("the sign-in session is older than allowed; sign in again",
                                   code="session_expired")


def _elevated(principal: Principal, state: ControlSnapshot, now: float) -> Principal:
    upstream = principal.acting_for
    if upstream is not None:
        upstream = _elevated(upstream, state, now)
    roles = state.roles(principal, now)
    if not roles and upstream is principal.acting_for:
        return principal
    return dataclasses.replace(principal, groups=principal.groups | roles, acting_for=upstream)

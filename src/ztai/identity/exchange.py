"""The token endpoint's two grants, without the HTTP: an agent's own token (client credentials
with a client assertion) and on-behalf-of delegation (RFC 8693 token exchange). Rights only
narrow: the scope is what was asked ∩ what the agent may use ∩ what the subject token allowed."""

from __future__ import annotations

from dataclasses import dataclass

from ztai.core.clock import Clock
from ztai.core.model import Principal, PrincipalId, PrincipalKind
from ztai.core.secret import Secret
from ztai.identity.assertion import ClientAssertionVerifier
from ztai.identity.delegation import SCOPE_ATTRIBUTE
from ztai.identity.directory import AgentDirectory, active_agent, check_chain
from ztai.identity.failure import AuthCode, auth_failure
from ztai.identity.issuer import Grant, TokenIssuer
from ztai.identity.model import ACCESS_TOKEN_TYPE, AgentRecord, IssuedToken
from ztai.identity.verifier import JwtVerifier

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SUBJECT_TOKEN_TYPES = frozenset({ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, ID_TOKEN_TYPE})


@dataclass(frozen=True, slots=True)
class ExchangeRequest:
    """RFC 8693 section 2.1. ``actor_token`` is the agent's client assertion (type ``jwt``) or
    its ztai access token (type ``access_token``). ``scope`` None asks for every model the agent
    may use. ``client_id`` is the client the endpoint authenticated, if it did."""

    subject_token: Secret
    actor_token: Secret
    subject_token_type: str = ACCESS_TOKEN_TYPE
    actor_token_type: str = JWT_TOKEN_TYPE
    scope: frozenset[str] | None = None
    audience: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class TokenService:
    """What the grants need: ``verifier`` trusts the IdPs and ztai itself (``issuer``)."""

    verifier: JwtVerifier
    assertions: ClientAssertionVerifier
    issuer: TokenIssuer
    directory: AgentDirectory
    clock: Clock


def issue_agent_token(
    assertion: str,
    scope: frozenset[str] | None,
    service: TokenService,
    client_id: str | None = None,
) -> IssuedToken:
    """An access token for the agent that signed ``assertion``, acting for itself."""
    agent = service.assertions.verify(assertion, client_id)
    granted = _narrow(agent.allowed_models, scope)
    principal = agent_principal(agent, service.issuer.settings.issuer, None)
    return service.issuer.issue(principal, Grant(granted, ttl_s=_agent_ttl(agent, service)))


async def exchange_token(request: ExchangeRequest, service: TokenService) -> IssuedToken:
    """A token naming the agent acting for the subject token's principal (``act`` nested for a
    longer chain). Raises ``AuthenticationFailed``; ``oauth_error(code)`` gives the response."""
    _check_request(request, service)
    agent = await _actor(request, service)
    subject = await service.verifier.verify(request.subject_token.reveal())
    now = service.clock.now()
    check_chain(subject, service.directory, service.issuer.settings.issuer, now)
    granted = _narrow(_allowed(agent, subject, service), request.scope)
    remaining = int((subject.expires_at or now) - now)
    if remaining <= 0:
        raise auth_failure(AuthCode.TOKEN_EXPIRED)
    ttl = min(remaining, _agent_ttl(agent, service))
    actor = agent_principal(agent, service.issuer.settings.issuer, subject)
    return service.issuer.issue(actor, Grant(granted, ttl, subject.session_id))


def agent_principal(agent: AgentRecord, issuer: str, acting_for: Principal | None) -> Principal:
    return Principal(
        id=PrincipalId(agent.id),
        kind=PrincipalKind.AGENT,
        groups=agent.groups,
        attributes=agent.attributes,
        issuer=issuer,
        sponsor=agent.sponsor,
        acting_for=acting_for,
    )


def _check_request(request: ExchangeRequest, service: TokenService) -> None:
    actor_types = (JWT_TOKEN_TYPE, ACCESS_TOKEN_TYPE)
    if request.subject_token_type not in SUBJECT_TOKEN_TYPES:
        raise auth_failure(AuthCode.UNSUPPORTED_TOKEN_TYPE)
    if request.actor_token_type not in actor_types:
        raise auth_failure(AuthCode.UNSUPPORTED_TOKEN_TYPE)
    if request.audience not in (None, service.issuer.settings.audience):
        raise auth_failure(AuthCode.INVALID_TARGET)


async def _actor(request: ExchangeRequest, service: TokenService) -> AgentRecord:
    """The agent the actor token proves; it must be the client the endpoint authenticated."""
    token = request.actor_token.reveal()
    if request.actor_token_type == JWT_TOKEN_TYPE:
        agent = service.assertions.verify(token, request.client_id)
    else:
        agent = await _agent_of_access_token(token, service)
    if request.client_id is not None and agent.id != request.client_id:
        raise auth_failure(AuthCode.ACTOR_MISMATCH)
    return agent


async def _agent_of_access_token(token: str, service: TokenService) -> AgentRecord:
    principal = await service.verifier.verify(token)
    own = principal.acting_for is None and principal.kind is PrincipalKind.AGENT
    if not own or principal.issuer != service.issuer.settings.issuer:
        raise auth_failure(AuthCode.ACTOR_MISMATCH)
    return active_agent(service.directory, principal.id, service.clock.now())


def _allowed(agent: AgentRecord, subject: Principal, service: TokenService) -> frozenset[str]:
    """The agent's models, within those a ztai-issued subject token allowed (an IdP token's
    scopes are not models and do not narrow)."""
    scope = subject.attributes.get(SCOPE_ATTRIBUTE)
    if subject.issuer != service.issuer.settings.issuer or scope is None:
        return agent.allowed_models
    return agent.allowed_models & frozenset(scope.split())


def _narrow(allowed: frozenset[str], requested: frozenset[str] | None) -> frozenset[str]:
    granted = allowed if requested is None else allowed & requested
    if not granted:
        raise auth_failure(AuthCode.INVALID_SCOPE)
    return granted


def _agent_ttl(agent: AgentRecord, service: TokenService) -> int:
    """The issuer's TTL, cut so that no token outlives the agent's registration."""
    ttl = service.issuer.settings.token_ttl_s
    if agent.expires_at is None:
        return ttl
    return max(1, min(ttl, int(agent.expires_at - service.clock.now())))

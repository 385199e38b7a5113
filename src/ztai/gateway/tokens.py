"""``POST /oauth2/token``: agents get short-lived ztai access tokens with a signed client
assertion (RFC 7523), or on-behalf-of tokens by token exchange (RFC 8693). It runs through the
one pipeline like every route: the grant is its authentication step (the caller is the agent,
acting for the subject token's principal), Cedar decides ``issue_token``, the audit event
records the token's id (never the token), and only then is the token released."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

import orjson

from ztai.core.errors import BadRequest
from ztai.core.model import GATEWAY, Action, Exchange, ExchangeId, Principal
from ztai.core.secret import Secret
from ztai.gateway.fastpath import Binding
from ztai.gateway.pipeline import Outcome
from ztai.gateway.plan import Plan, TextlessReader
from ztai.identity.exchange import (
    TOKEN_EXCHANGE_GRANT,
    ExchangeRequest,
    TokenService,
    exchange_token,
    issue_agent_token,
)
from ztai.identity.failure import oauth_error
from ztai.identity.model import IssuedToken

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_FIELDS = 16


class TokenEndpoint:
    def __init__(self, service: TokenService) -> None:
        self._service = service

    def bind(self, read_body: Callable[[], Awaitable[bytes]]) -> Binding:
        """Per request: the grant (authentication) and its answer, sharing the issued token."""
        issued: list[IssuedToken] = []

        async def authenticate() -> Principal:
            token = await self._grant(_form(await read_body()))
            issued.append(token)
            return await self._service.verifier.verify(token.token.reveal())

        def translate(body: bytes, exchange_id: ExchangeId) -> Plan:
            token = issued[0]
            exchange = Exchange(exchange_id, "oauth.token", Action.ISSUE_TOKEN, GATEWAY,
                                signals={"jti": token.jti, "scope": " ".join(sorted(token.scope)),
                                         "expires_in": token.expires_in})
            return Plan(exchange, TextlessReader(), local=lambda flow: _answer(token))

        return authenticate, translate

    async def _grant(self, form: dict[str, str]) -> IssuedToken:
        grant_type = form.get("grant_type")
        scope = frozenset(form["scope"].split()) if form.get("scope") else None
        if grant_type == "client_credentials":
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise BadRequest("client_assertion_type must be jwt-bearer", code="invalid_client")
            return issue_agent_token(_required(form, "client_assertion"), scope, self._service,
                                     form.get("client_id"))
        if grant_type == TOKEN_EXCHANGE_GRANT:
            return await exchange_token(_exchange_request(form, scope), self._service)
        raise BadRequest("unsupported grant_type", code="unsupported_grant_type")


async def _answer(token: IssuedToken) -> dict[str, object]:
    return dict(token.response())


def _exchange_request(form: dict[str, str], scope: frozenset[str] | None) -> ExchangeRequest:
    optional = {k: form[k] for k in ("subject_token_type", "actor_token_type") if k in form}
    return ExchangeRequest(
        subject_token=Secret(_required(form, "subject_token")),
        actor_token=Secret(_required(form, "actor_token")),
        scope=scope, audience=form.get("audience"), client_id=form.get("client_id"),
        **optional,
    )


def _form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body; each field at most once."""
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=bool(body),
                          max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the token request must be a form-encoded body") from None
    if any(len(values) != 1 for values in fields.values()):
        raise BadRequest("a token request field appears more than once")
    return {name: values[0] for name, values in fields.items()}


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise BadRequest(f"'{name}' is required", param=name, code="invalid_request")
    return value


def oauth_outcome(outcome: Outcome) -> Outcome:
    """Errors in the OAuth shape (RFC 6749 section 5.2) instead of OpenAI's."""
    if outcome.status < 400:
        return outcome
    try:
        error = orjson.loads(outcome.body)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return outcome
    code = str(error.get("code") or "")
    oauth = code if code in _OAUTH_CODES else oauth_error(code)
    body = {"error": oauth, "error_description": str(error.get("message", ""))}
    status = outcome.status
    if status == 401 and oauth != "invalid_client":
        status = 400  # a bad grant is a 400 in OAuth; only client authentication is a 401
    return Outcome(status, outcome.exchange_id, orjson.dumps(body), headers=outcome.headers)


_OAUTH_CODES = frozenset({"invalid_request", "invalid_client", "unsupported_grant_type",
                          "invalid_scope", "invalid_grant"})

"""The one pipeline every route runs. The order of controls, readable in one screen:

    authenticate → translate → request stages (enrich, classify, detect, authorize, protect)
    → forward → inspect response → audit (always; the response waits for the commit)

Fail closed, here alone: any stage error, timeout or unavailable dependency becomes a deny
with a reason and an audit event. A response leaves only after its audit event is committed;
a stream's terminal event is held back until then.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ztai.core.audit import AuditEvent, CheckStatus
from ztai.core.clock import Clock, new_id
from ztai.core.errors import (
    BadRequest,
    StageFailed,
    StoreUnavailable,
    ZtaiError,
    where_it_failed,
)
from ztai.core.flow import Flow, RequestMeta, RequestStage, ResponseStage
from ztai.core.model import Decision, ExchangeId, Principal
from ztai.core.secret import Secret
from ztai.gateway.answer import AnswerGuard, AnswerPolicy, Blocked
from ztai.gateway.errors import error_body
from ztai.gateway.holds import Holds
from ztai.gateway.metrics import Metrics
from ztai.gateway.obligations import denial_code, denial_headers, denial_hint, denial_status
from ztai.gateway.openai.fields import other_texts
from ztai.gateway.openai.paths import replace_strings, rewrite_answer
from ztai.gateway.plan import Piece, Plan, with_extras
from ztai.gateway.relay import Relay
from ztai.gateway.toolcalls import ToolCallPolicy, proposed
from ztai.gateway.trail import Trail
from ztai.identity.header import parse_authorization
from ztai.identity.interface import Authenticator

log = logging.getLogger("ztai.pipeline")
# texts one request may carry: each is classified and judged on its own, so a request of many
# tiny ones costs far more than its size says (the body limit alone allowed ~33,000)
MAX_SEGMENTS = 10_000

Translate = Callable[[bytes, ExchangeId], Plan]
UsageSink = Callable[[Principal, str, int], None]  # principal, model, tokens


class Auditor(Protocol):
    async def record(self, event: AuditEvent) -> int:
        """Return once ``event`` is durably committed; raise if it cannot be."""
        ...


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    stage_timeout_s: float = 2.0
    record_content: bool = False


@dataclass(frozen=True, slots=True)
class Inbound:
    """A request as the route received it. The body is read only after authentication, so
    unauthenticated requests cost no body parsing."""

    route: str
    authorization: Secret | None
    read_body: Callable[[], Awaitable[bytes]]
    meta: RequestMeta = field(default_factory=RequestMeta)
    # a route whose caller is proven by the body (the token endpoint) authenticates itself
    authenticate: Callable[[], Awaitable[Principal]] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished answer (``body``) or a stream (``chunks``), with the exchange id."""

    status: int
    exchange_id: str
    body: bytes = b""
    chunks: AsyncIterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Pipeline:
    def __init__(self, authenticator: Authenticator, stages: Sequence[RequestStage],
                 response_stages: Sequence[ResponseStage], auditor: Auditor,
                 services: PipelineServices) -> None:
        self._authenticator = authenticator
        self._stages = tuple(stages)
        self._response_stages = tuple(response_stages)
        self._auditor = auditor
        self._clock = services.clock
        self._metrics = services.metrics
        self._options = services.options
        self._answers = services.answers
        self._tool_calls = services.tool_calls
        self._holds = services.holds
        self._usage = services.usage
        self._checks = ("authenticate", "parse", *(s.name for s in self._stages), "forward",
                        *(s.name for s in self._response_stages))
        self._background: set[asyncio.Task[Outcome]] = set()

    async def run(self, inbound: Inbound, translate: Translate) -> Outcome:
        trail = Trail(new_id("x-"), inbound.route, self._clock.monotonic(), self._checks,
                      client_ip=inbound.meta.client_ip)
        try:
            return await self._run(inbound, translate, trail)
        except ZtaiError as exc:
            trail.fail(exc)
        # the one broad catch: could not decide → deny (logged by where_it_failed, which
        # leaves the exception's message out)
        except Exception as exc:  # noqa: BLE001
            log.error("exchange %s: %s in pipeline\n%s", trail.id, type(exc).__name__,
                      where_it_failed(exc))
            trail.fail(StageFailed("internal error while deciding; the request was denied"))
        return await self.finish(trail, None)

    async def _run(self, inbound: Inbound, translate: Translate, trail: Trail) -> Outcome:
        with self._timed(trail, "authenticate"):
            principal = await self._authenticate(inbound)
        trail.principal = principal
        with self._timed(trail, "parse"):
            plan = translate(await inbound.read_body(), ExchangeId(trail.id))
        trail.exchange = plan.exchange
        if len(plan.exchange.segments) > MAX_SEGMENTS:  # each is judged on its own
            raise BadRequest(f"the request holds {len(plan.exchange.segments)} texts, more "
                             f"than {MAX_SEGMENTS}")
        flow = Flow(plan.exchange, principal, context=_context(plan, principal),
                    meta=inbound.meta, findings=trail.findings, notes=trail.notes)
        decision = await self._decide(flow, trail)
        trail.exchange = flow.exchange  # with any segment a stage added
        trail.principal, trail.decision = flow.principal, decision
        label = flow.context.get("content_label")
        trail.label = label if isinstance(label, str) else None
        if not decision.is_allow:
            trail.status = denial_status(decision)
            return await self.finish(trail, None)
        return await self._forward(flow, _rewritten(plan, flow), trail)

    async def _authenticate(self, inbound: Inbound) -> Principal:
        if inbound.authenticate is not None:
            return await inbound.authenticate()
        header = inbound.authorization.reveal() if inbound.authorization else None
        return await self._authenticator.authenticate(parse_authorization(header))

    async def _decide(self, flow: Flow, trail: Trail) -> Decision:
        for stage in self._stages:
            verdict = await self._run_stage(stage, flow, trail)
            if verdict is not None and self._holds is not None \
                    and self._holds.holdable(flow, verdict):
                with self._timed(trail, "hold"):
                    verdict = await self._holds.settle(flow, verdict)
            if verdict is not None and not verdict.is_allow:
                return verdict
            if verdict is not None:
                flow.decision = _merge(flow.decision, verdict)
        return flow.decision or Decision.deny("no stage authorized this request (default deny)")

    async def _run_stage(self, stage: RequestStage, flow: Flow, trail: Trail) -> Decision | None:
        started = self._clock.monotonic()
        try:
            if getattr(stage, "suspends", True):
                async with asyncio.timeout(self._options.stage_timeout_s):
                    verdict = await stage.run(flow)
            else:  # arming and cancelling a timer cost more than most such stages
                verdict = run_to_completion(stage.run(flow))
        except TimeoutError:
            self._record(trail, stage.name, started, CheckStatus.ERROR, "timed out")
            raise StageFailed(f"check '{stage.name}' timed out; the request was denied") from None
        except ZtaiError:
            self._record(trail, stage.name, started, CheckStatus.ERROR)
            raise
        # a broken stage denies, never passes (logged as above)
        except Exception as exc:  # noqa: BLE001
            self._record(trail, stage.name, started, CheckStatus.ERROR, type(exc).__name__)
            log.error("exchange %s: check %s failed\n%s", trail.id, stage.name,
                      where_it_failed(exc))
            raise StageFailed(f"check '{stage.name}' failed; the request was denied") from None
        flagged = verdict is not None and not verdict.is_allow
        self._record(trail, stage.name, started,
                     CheckStatus.FLAGGED if flagged else CheckStatus.PASSED)
        return verdict

    async def _forward(self, flow: Flow, plan: Plan, trail: Trail) -> Outcome:
        started = self._clock.monotonic()
        if plan.target is not None:
            trail.model, trail.upstream = plan.target.name, plan.target.upstream.name
        scanned = plan.call is not None or plan.scan_answer
        guard = self._answers.guard(flow) if self._answers and scanned else None
        try:
            if plan.local is not None:
                body: dict[str, Any] = await plan.local(flow)
            elif plan.call is not None and plan.target is not None and plan.call.stream:
                relay = await Relay.open(plan, flow, self._response_stages, trail, guard,
                                         self._tool_calls)
                self._record(trail, "forward", started, CheckStatus.PASSED, "stream opened")
                return Outcome(200, trail.id, chunks=relay.chunks(self))
            elif plan.call is not None and plan.target is not None:
                reply = await plan.target.upstream.send(plan.call)
                body = reply.body
                trail.usage = plan.reader.usage(body)
            else:
                raise StageFailed("route produced no way to answer")
        except ZtaiError:
            self._record(trail, "forward", started, CheckStatus.ERROR)
            raise
        self._record(trail, "forward", started, CheckStatus.PASSED)
        verdict = await Relay.inspect_all(self._response_stages, flow, plan, body, trail)
        if verdict is None and self._tool_calls is not None and plan.call is not None:
            verdict = self._tool_calls.check(flow, proposed(body))
        if verdict is None and guard is not None:
            try:
                body = _guarded(body, plan, guard, flow.extras)
            except Blocked as blocked:
                verdict = blocked.decision
            trail.response_label = guard.label()
        elif flow.extras:
            body = {**body, **flow.extras}
        if verdict is not None:
            trail.decision, trail.status = verdict, 403
            return await self.finish(trail, None)
        trail.status = 200
        return await self.finish(trail, orjson.dumps(body))

    async def finish(self, trail: Trail, body: bytes | None) -> Outcome:
        """Commit the audit event, then release the answer; fail closed if the commit fails."""
        now, elapsed = self._clock.now(), self._clock.monotonic() - trail.started
        event = trail.event(now, elapsed, self._options.record_content)
        if self._usage is not None and trail.usage and trail.principal is not None \
                and event.decision.is_allow:
            self._usage(trail.principal, trail.model or "", trail.usage.get("total_tokens", 0))
        self._metrics.count_request(trail.route, trail.status)
        self._metrics.count_decision(event.decision.effect.value, trail.reason_code())
        try:
            await self._auditor.record(event)
        except (StoreUnavailable, OSError, RuntimeError) as exc:
            log.error("exchange %s: audit commit failed (%s); answer withheld", trail.id, exc)
            return Outcome(503, trail.id, error_body(
                503, "the audit log is unavailable; the request was not completed",
                "audit_unavailable"))
        if body is not None:
            return Outcome(trail.status, trail.id, body)
        headers = denial_headers(trail.decision) if trail.decision and not trail.error else {}
        return Outcome(trail.status, trail.id, _denial(trail), headers=headers)

    @contextmanager
    def _timed(self, trail: Trail, name: str) -> Iterator[None]:
        """Time a built-in step: passed, or flagged when it raises."""
        started = self._clock.monotonic()
        try:
            yield
        except BaseException:
            self._record(trail, name, started, CheckStatus.FLAGGED)
            raise
        self._record(trail, name, started, CheckStatus.PASSED)

    def finish_later(self, trail: Trail) -> None:
        """Audit an exchange whose client went away; nobody waits for this commit."""
        task = asyncio.get_running_loop().create_task(self.finish(trail, None))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _record(self, trail: Trail, name: str, started: float, status: CheckStatus,
                detail: str = "") -> None:
        seconds = self._clock.monotonic() - started
        trail.check(name, status, seconds, detail)
        self._metrics.observe_stage(name, seconds)


def run_to_completion(run: Coroutine[Any, Any, Decision | None]) -> Decision | None:
    """The result of a stage's ``run`` that finishes without suspending. One that suspends is
    closed and raises: a stage that declared ``suspends = False`` and awaits is broken."""
    try:
        run.send(None)
    except StopIteration as done:
        result: Decision | None = done.value
        return result
    run.close()
    raise RuntimeError("a stage that declares it never suspends suspended")


@dataclass(frozen=True, slots=True)
class PipelineServices:
    clock: Clock
    metrics: Metrics
    options: PipelineOptions
    answers: AnswerPolicy | None = None  # scanning and DLP of answers, when configured
    tool_calls: ToolCallPolicy | None = None  # proposed tool calls authorized, when configured
    holds: Holds | None = None  # calls a policy holds wait for a person, when configured
    usage: UsageSink | None = None  # told the tokens of each allowed answer (agent budgets)


def _rewritten(plan: Plan, flow: Flow) -> Plan:
    """The plan with the upstream request carrying the texts the protect stage rewrote. A
    rewrite that cannot reach the upstream request fails closed."""
    if not (flow.rewrites or flow.appended) or (plan.local is not None
                                                and plan.applies_rewrites):
        return plan
    if plan.call is None or (flow.appended and not isinstance(
            plan.call.body.get("messages"), list)):
        raise StageFailed("content was redacted or added but this route cannot send it")
    body = plan.call.body
    if flow.appended:
        body = {**body, "messages": [*body["messages"], *flow.appended]}
    segments = flow.exchange.segments  # a stage may have added some (retrieved knowledge)
    texts = {segments[index].source: text for index, text in flow.rewrites.items()}
    call = dataclasses.replace(plan.call, body=replace_strings(body, texts) if texts else body)
    return dataclasses.replace(plan, call=call)


def _guarded(body: dict[str, Any], plan: Plan, guard: AnswerGuard,
             extras: Mapping[str, Any]) -> dict[str, Any]:
    """A whole answer with each text piece cleaned (raises ``Blocked``), and what ztai adds to
    it (``extras``: a knowledge base's citations) judged as the model's words are: a document's
    title reaches the client as the answer does (before 2026-11-28 it was added unjudged)."""
    own: list[Piece] = []
    if extras:
        other_texts(extras, frozenset(), "", own)
    changed, offset = {}, 0
    pieces = [*with_extras(plan.reader, plan.reader.pieces(body), body),
              *((path, text, False) for path, text in own)]
    for path, text, provider in pieces:
        cleaned = guard.clean(text, guard.detect(text, provider), offset)
        if cleaned != text:
            changed[path] = cleaned
        offset += len(text) + 1
    body = {**body, **extras} if extras else body
    return rewrite_answer(body, changed) if changed else body


def _context(plan: Plan, principal: Principal) -> dict[str, object]:
    return {
        **plan.context,
        "route": plan.exchange.route,
        "stream": plan.exchange.stream,
        "auth_method": principal.auth_method,
        "principal_kind": principal.kind.value,
        "direction": "request",
    }


def _merge(previous: Decision | None, verdict: Decision) -> Decision:
    if previous is None:
        return verdict
    return Decision(verdict.effect, previous.reasons + verdict.reasons,
                    previous.policy_ids + verdict.policy_ids,
                    previous.obligations + verdict.obligations)


def _denial(trail: Trail) -> bytes:
    if trail.error is not None:
        error = trail.error
        return error_body(trail.status, error.message, error.code, error.param)
    decision = trail.decision or Decision.deny("no decision was reached")
    message = "denied: " + "; ".join(decision.reasons)
    if decision.policy_ids:
        message += f" (policies: {', '.join(decision.policy_ids)})"
    return error_body(trail.status, message + denial_hint(decision), denial_code(decision))

"""``/admin/alerts``: risk alerts with their evidence, pseudonymised. List them, read one (its
evidence events and deliveries, or as an OCSF Detection Finding), dismiss one as a false
positive, or unmask who it is about. Dismissing and unmasking need a reason; like every admin
call they are audited exchanges, and the reason is in the audit event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.core.errors import BadRequest
from ztai.gateway.admin.body import Body, Reply, answers, parse_body, request_body
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.monitoring.ocsf import detection_finding
from ztai.monitoring.review import MAX_REASON_CHARS, AlertReview, AlertView
from ztai.storage.model import AlertStatus, DeliveryStatus, RiskLevel


class AlertReason(Body):
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS,
                        description="Why (recorded in the audit log)")


class EvidenceInfo(Reply):
    seq: int
    event_id: str
    time: float
    action: str
    resource: str
    decision: str
    points: dict[str, float]
    topics: list[str]


class DeliveryInfo(Reply):
    sink: str
    revision: int
    status: DeliveryStatus
    attempts: int
    last_error: str
    updated_at: float


class AlertInfo(Reply):
    alert_id: str
    principal: str = Field(description="A pseudonym unless this answer unmasked it")
    masked: bool
    level: RiskLevel
    score: float
    status: AlertStatus
    raised_at: float
    updated_at: float
    revision: int
    indicators: dict[str, float]
    closed_by: str
    close_reason: str

    @classmethod
    def fields_of(cls, view: AlertView) -> dict[str, Any]:
        a = view.alert
        return dict(alert_id=a.alert_id, principal=a.principal, masked=view.masked,
                    level=a.level, score=a.score, status=a.status, raised_at=a.raised_at,
                    updated_at=a.updated_at, revision=a.revision,
                    indicators=dict(a.indicators), closed_by=a.closed_by,
                    close_reason=a.close_reason)

    @classmethod
    def of(cls, view: AlertView) -> AlertInfo:
        return cls(**cls.fields_of(view))


class AlertDetail(AlertInfo):
    pseudonym: str
    evidence: list[EvidenceInfo]
    deliveries: list[DeliveryInfo]

    @classmethod
    def of(cls, view: AlertView) -> AlertDetail:
        return cls(**cls.fields_of(view), pseudonym=view.pseudonym, evidence=[
            EvidenceInfo(seq=e.seq, event_id=e.event_id, time=e.time, action=e.action,
                         resource=e.resource, decision=e.decision, points=dict(e.points),
                         topics=list(e.topics)) for e in view.alert.evidence],
            deliveries=[DeliveryInfo(sink=d.sink, revision=d.revision, status=d.status,
                                     attempts=d.attempts, last_error=d.last_error,
                                     updated_at=d.updated_at) for d in view.deliveries])


class AlertList(Reply):
    data: list[AlertInfo]


class OcsfFinding(Reply):
    finding: dict[str, Any] = Field(description="OCSF Detection Finding (class 2004)")


class AlertOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, status: str | None, limit: str | None) -> Operation:
        wanted, most = _status(status or "all"), _limit(limit)
        return Operation(lambda call: AlertList(data=[
            AlertInfo.of(view) for view in self._review().list(wanted, most)]))

    def show(self, alert_id: str) -> Operation:
        return Operation(lambda call: AlertDetail.of(self._review().show(alert_id)), alert_id)

    def ocsf(self, alert_id: str) -> Operation:
        return Operation(lambda call: OcsfFinding(
            finding=detection_finding(self._review().show(alert_id).alert)), alert_id)

    def dismiss(self, alert_id: str, body: bytes) -> Operation:
        ask = parse_body(AlertReason, body)
        return Operation(lambda call: self._dismiss(alert_id, ask.reason, call), alert_id)

    def unmask(self, alert_id: str, body: bytes) -> Operation:
        ask = parse_body(AlertReason, body)
        return Operation(lambda call: self._unmask(alert_id, ask.reason, call), alert_id)

    def _dismiss(self, alert_id: str, reason: str, call: Call) -> AlertDetail:
        view = self._review().dismiss(alert_id, call.ref, reason)
        call.details.update(alert_id=alert_id, reason=reason, status=view.alert.status.value)
        return AlertDetail.of(view)

    def _unmask(self, alert_id: str, reason: str, call: Call) -> AlertDetail:
        view = self._review().unmask(alert_id, reason)
        call.details.update(alert_id=alert_id, reason=reason, unmasked=True,
                            subject=view.alert.principal)
        return AlertDetail.of(view)

    def _review(self) -> AlertReview:
        if self._s.alerts is None:
            raise BadRequest("risk monitoring is off on this gateway",
                             code="alerts_not_configured")
        return self._s.alerts


def _status(text: str) -> AlertStatus | None:
    if text == "all":
        return None
    try:
        return AlertStatus(text)
    except ValueError:
        raise BadRequest("status must be open, resolved, dismissed or all",
                         param="status") from None


def _limit(text: str | None) -> int:
    if text is None:
        return 100
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise BadRequest("limit must be a whole number from 1 to 1000", param="limit")
    return int(text)


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops, router = AlertOperations(services), APIRouter(prefix="/alerts", tags=["alerts"])

    @router.get("", responses=answers(AlertList),
                summary="Risk alerts, newest first, pseudonymised (?status=open|resolved|"
                        "dismissed|all, ?limit=100)")
    async def list_alerts(request: Request) -> Response:
        query = request.query_params
        return await edge.run(request, "alerts.list",
                              lambda body: ops.index(query.get("status"), query.get("limit")))

    @router.get("/{alert_id}", responses=answers(AlertDetail),
                summary="One alert with its evidence events and deliveries, pseudonymised")
    async def show_alert(alert_id: str, request: Request) -> Response:
        return await edge.run(request, "alerts.get", lambda body: ops.show(alert_id))

    @router.get("/{alert_id}/ocsf", responses=answers(OcsfFinding),
                summary="One alert as an OCSF Detection Finding, pseudonymised")
    async def alert_ocsf(alert_id: str, request: Request) -> Response:
        return await edge.run(request, "alerts.ocsf", lambda body: ops.ocsf(alert_id))

    @router.post("/{alert_id}/dismiss", responses=answers(AlertDetail),
                 openapi_extra=request_body(AlertReason),
                 summary="Dismiss an open alert as a false positive (clears the score)")
    async def dismiss_alert(alert_id: str, request: Request) -> Response:
        return await edge.run(request, "alerts.dismiss", lambda body: ops.dismiss(alert_id, body))

    @router.post("/{alert_id}/unmask", responses=answers(AlertDetail),
                 openapi_extra=request_body(AlertReason),
                 summary="Show who an alert is about; the reason is audited")
    async def unmask_alert(alert_id: str, request: Request) -> Response:
        return await edge.run(request, "alerts.unmask", lambda body: ops.unmask(alert_id, body))

    return router

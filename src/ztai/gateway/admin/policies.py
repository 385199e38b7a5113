"""``/admin/policies``: the Cedar policies in force (id, where written, effect, reason), and the
reload status: why the policy files on disk are not in force, if an invalid edit was refused."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ztai.gateway.admin.body import Reply, answers
from ztai.gateway.admin.edge import AdminEdge, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.policy.model import PolicyProblem, PolicySource


class PolicyInfo(Reply):
    id: str
    file: str
    line: int | None
    effect: str
    reason: str | None

    @classmethod
    def of(cls, source: PolicySource) -> PolicyInfo:
        return cls(id=source.id, file=source.file, line=source.line, effect=source.effect,
                   reason=source.reason)


class PolicyList(Reply):
    data: list[PolicyInfo]


class ProblemInfo(Reply):
    file: str
    line: int | None
    message: str
    policy_id: str | None

    @classmethod
    def of(cls, problem: PolicyProblem) -> ProblemInfo:
        return cls(file=problem.file, line=problem.line, message=problem.message,
                   policy_id=problem.policy_id)


class PolicyStatus(Reply):
    in_force: int
    up_to_date: bool
    problems: list[ProblemInfo]


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    router = APIRouter(prefix="/policies", tags=["policies"])

    def index(body: bytes) -> Operation:
        return Operation(lambda call: PolicyList(data=[
            PolicyInfo.of(source) for source in services.policies().sources.values()]))

    def status(body: bytes) -> Operation:
        return Operation(lambda call: _status(services))

    @router.get("", responses=answers(PolicyList), summary="List the policies in force")
    async def list_policies(request: Request) -> Response:
        return await edge.run(request, "policies.list", index)

    @router.get("/status", responses=answers(PolicyStatus),
                summary="Reload status: problems that keep the files on disk out of force")
    async def policy_status(request: Request) -> Response:
        return await edge.run(request, "policies.status", status)

    return router


def _status(services: AdminServices) -> PolicyStatus:
    problems = [ProblemInfo.of(problem) for problem in services.problems()]
    return PolicyStatus(in_force=len(services.policies().sources), up_to_date=not problems,
                        problems=problems)

"""What the admin endpoints read and change, handed in by whoever assembles the gateway."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ztai.agents.approvals import ApprovalQueue
from ztai.core.clock import Clock
from ztai.gateway.access import AccessService
from ztai.monitoring.review import AlertReview
from ztai.policy.model import LoadedPolicies, PolicyProblem
from ztai.storage.interface import ControlStore, KeyStore


@dataclass(frozen=True, slots=True)
class AdminServices:
    """``policies`` returns the set in force now; ``problems`` why the files on disk are not
    (an invalid edit the reloader refused), empty when they are."""

    keys: KeyStore
    control: ControlStore
    access: AccessService
    clock: Clock
    policies: Callable[[], LoadedPolicies]
    problems: Callable[[], Sequence[PolicyProblem]]
    approvals: ApprovalQueue | None = None  # None: no calls are held for approval
    alerts: AlertReview | None = None  # None: risk monitoring is off

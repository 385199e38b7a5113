"""Hot reload: notice that a policy directory changed and swap in the new set if it is valid.

No thread or task of its own: the gateway calls ``check()`` (e.g. every second), logs the result
and counts it. An invalid edit keeps the last good set in force and is reported once.
"""

from __future__ import annotations

from pathlib import Path

from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.compiler import PolicyLoadError
from ztai.policy.interface import PolicyError
from ztai.policy.loader import fingerprint, load_policies
from ztai.policy.model import Fingerprint, PolicyProblem, ReloadResult, ReloadStatus


class PolicyReloader:
    """Reloads ``directory`` into ``authorizer`` when its files' (name, mtime, size) change."""

    __slots__ = ("_attempted", "_authorizer", "_directory", "_problems")

    def __init__(self, authorizer: CedarAuthorizer, directory: Path) -> None:
        self._authorizer = authorizer
        self._directory = directory
        self._attempted: Fingerprint | None = authorizer.snapshot.policies.fingerprint
        self._problems: tuple[PolicyProblem, ...] = ()

    @property
    def problems(self) -> tuple[PolicyProblem, ...]:
        """Why the directory's current content is not in force; empty when it is."""
        return self._problems

    def check(self) -> ReloadResult:
        """UNCHANGED if nothing changed since the last check, else RELOADED or FAILED (with the
        problems; the previous set stays in force). Never raises for a bad policy file."""
        try:
            seen = fingerprint(self._directory)
        except OSError as exc:
            problem = PolicyProblem(str(self._directory), f"cannot read: {exc.strerror}")
            return self._failed(None, (problem,))
        if seen == self._attempted:
            return ReloadResult(ReloadStatus.UNCHANGED, self._problems)
        try:
            loaded = load_policies(self._directory, self._authorizer.snapshot.policies.schema)
        except PolicyLoadError as exc:
            return self._failed(seen, exc.problems)
        except PolicyError as exc:
            return self._failed(seen, (PolicyProblem(str(self._directory), exc.message),))
        self._authorizer.replace_policies(loaded)
        self._attempted, self._problems = loaded.fingerprint, ()
        return ReloadResult(ReloadStatus.RELOADED, policy_count=len(loaded.sources))

    def _failed(
        self, seen: Fingerprint | None, problems: tuple[PolicyProblem, ...]
    ) -> ReloadResult:
        repeated = seen is None and self._attempted is None
        self._attempted, self._problems = seen, problems
        status = ReloadStatus.UNCHANGED if repeated else ReloadStatus.FAILED
        return ReloadResult(status, problems)

"""Hot reload: a valid change swaps the set, an invalid one keeps the last good set and reports."""

from __future__ import annotations

import shutil

import cedarpy
import pytest

from ztai.core.model import Action
from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.model import ReloadResult, ReloadStatus
from ztai.policy.reload import PolicyReloader

from .support import PolicyDir, ask, user

STAFF = '@id("staff")\npermit (principal in Group::"staff", action, resource);\n'
ADMINS = '@id("admins")\npermit (principal in Group::"admins", action, resource);\n'
BROKEN = 'permit (principal in Group::"staff", action, resource)\nwhen { resource.nope };\n'

STAFF_ASK = ask(user(groups=("staff",)), Action.LIST_MODELS)
ADMIN_ASK = ask(user(groups=("admins",)), Action.LIST_MODELS)


@pytest.fixture
def setup(
    policy_dir: PolicyDir, schema: cedarpy.Schema
) -> tuple[PolicyDir, CedarAuthorizer, PolicyReloader]:
    policy_dir.write("00-staff.cedar", STAFF)
    authorizer = policy_dir.authorizer(schema)
    return policy_dir, authorizer, PolicyReloader(authorizer, policy_dir.path)


def allowed(authorizer: CedarAuthorizer) -> tuple[bool, bool]:
    return authorizer.decide(STAFF_ASK).is_allow, authorizer.decide(ADMIN_ASK).is_allow


def test_nothing_changed(setup: tuple[PolicyDir, CedarAuthorizer, PolicyReloader]) -> None:
    _, authorizer, reloader = setup
    assert reloader.check() == ReloadResult(ReloadStatus.UNCHANGED)
    assert allowed(authorizer) == (True, False)


def test_new_file_is_swapped_in(setup: tuple[PolicyDir, CedarAuthorizer, PolicyReloader]) -> None:
    policy_dir, authorizer, reloader = setup
    policy_dir.write("10-admins.cedar", ADMINS)
    assert reloader.check() == ReloadResult(ReloadStatus.RELOADED, policy_count=2)
    assert allowed(authorizer) == (True, True)
    assert reloader.check().status is ReloadStatus.UNCHANGED


def test_invalid_edit_keeps_last_good_set(
    setup: tuple[PolicyDir, CedarAuthorizer, PolicyReloader],
) -> None:
    policy_dir, authorizer, reloader = setup
    policy_dir.write("10-admins.cedar", ADMINS)
    policy_dir.write("00-staff.cedar", BROKEN)
    result = reloader.check()
    assert result.status is ReloadStatus.FAILED
    assert {(p.file, p.line) for p in result.problems} == {("00-staff.cedar", 1)}
    assert allowed(authorizer) == (True, False)
    assert reloader.check() == ReloadResult(ReloadStatus.UNCHANGED, result.problems)
    assert reloader.problems == result.problems
    policy_dir.write("00-staff.cedar", STAFF)
    assert reloader.check().status is ReloadStatus.RELOADED
    assert (allowed(authorizer), reloader.problems) == ((True, True), ())


def test_deleted_file_is_reloaded(setup: tuple[PolicyDir, CedarAuthorizer, PolicyReloader]) -> None:
    policy_dir, authorizer, reloader = setup
    (policy_dir.path / "00-staff.cedar").unlink()
    assert reloader.check() == ReloadResult(ReloadStatus.RELOADED, policy_count=0)
    assert allowed(authorizer) == (False, False)


def test_vanished_directory_keeps_last_good_set(
    setup: tuple[PolicyDir, CedarAuthorizer, PolicyReloader],
) -> None:
    policy_dir, authorizer, reloader = setup
    shutil.rmtree(policy_dir.path)
    failed = reloader.check()
    assert failed.status is ReloadStatus.FAILED
    assert "cannot read" in failed.problems[0].message
    assert reloader.check().status is ReloadStatus.UNCHANGED
    assert allowed(authorizer) == (True, False)
    policy_dir.path.mkdir()
    policy_dir.write("10-admins.cedar", ADMINS)
    assert reloader.check().status is ReloadStatus.RELOADED
    assert allowed(authorizer) == (False, True)


def test_swap_keeps_the_catalogue(setup: tuple[PolicyDir, CedarAuthorizer, PolicyReloader]) -> None:
    policy_dir, authorizer, reloader = setup
    resources = authorizer.snapshot.resources
    policy_dir.write("10-admins.cedar", ADMINS)
    reloader.check()
    assert authorizer.snapshot.resources == resources
    assert authorizer.snapshot.policies.directory == policy_dir.path

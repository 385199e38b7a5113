"""Loading a policy directory: stable ids, sources, every problem reported with file and line."""

from __future__ import annotations

from pathlib import Path

import cedarpy
import pytest

from ztai.policy.compiler import PolicyLoadError, compile_policies
from ztai.policy.explain import validate_dir
from ztai.policy.loader import MAX_FILE_BYTES, load_policies, not_loaded
from ztai.policy.model import PolicyProblem

from .support import PolicyDir

PERMIT = 'permit (principal in Group::"staff", action == Action::"list_models", resource);\n'


def test_ids_sources_and_lines(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    policy_dir.write("b.cedar", "// header\n\n" + PERMIT + '@id("named")\n' + PERMIT)
    policy_dir.write("a.cedar", PERMIT)
    loaded = load_policies(policy_dir.path, schema)
    summary = [(s.id, s.file, s.line, s.effect) for s in loaded.sources.values()]
    assert summary == [
        ("a.cedar#0", "a.cedar", 1, "permit"),
        ("b.cedar#0", "b.cedar", 3, "permit"),
        ("named", "b.cedar", 4, "permit"),
    ]
    assert loaded.sources["named"].text == '@id("named")\n' + PERMIT.strip()
    assert loaded.sources["named"].annotations == {"id": "named"}
    assert len(loaded.policy_set) == 3


def test_only_visible_cedar_files_are_read(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    policy_dir.write("notes.txt", "not cedar")
    policy_dir.write(".draft.cedar", "not cedar either")
    policy_dir.write("p.cedar.bak", "nor this")
    (policy_dir.path / "sub.cedar").mkdir()
    assert load_policies(policy_dir.path, schema).sources == {}


def test_what_looks_meant_as_policy_but_is_not_read_is_named(policy_dir: PolicyDir) -> None:
    """Before 2026-11-28 a policy in a folder or named in capitals was left out silently."""
    policy_dir.write("notes.txt", "not cedar")
    policy_dir.write("p.cedar.bak", "kept aside on purpose")
    policy_dir.write("10-deny.CEDAR", PERMIT)
    policy_dir.write("a.cedar", PERMIT)
    (policy_dir.path / "team-a").mkdir()
    (policy_dir.path / ".git").mkdir()
    assert not_loaded(policy_dir.path) == [
        "10-deny.CEDAR: not read; policy files end in '.cedar', lower case",
        "team-a/: folders are not read; only the *.cedar files directly in the policy "
        "directory are"]
    assert not_loaded(policy_dir.path / "missing") == []


def test_empty_directory_is_valid(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    loaded = load_policies(policy_dir.path, schema)
    assert (len(loaded.policy_set), loaded.fingerprint) == (0, ())
    assert validate_dir(policy_dir.path, schema) == []


def problems_of(
    policy_dir: PolicyDir, schema: cedarpy.Schema, files: dict[str, str]
) -> list[PolicyProblem]:
    for name, text in files.items():
        policy_dir.write(name, text)
    found = validate_dir(policy_dir.path, schema)
    with pytest.raises(PolicyLoadError) as raised:
        load_policies(policy_dir.path, schema)
    assert list(raised.value.problems) == found
    return found


PROBLEMS = [
    (
        "parse error on the second policy",
        {"p.cedar": PERMIT + "\n\npermit (principal, action"},
        [("p.cedar", 4, None, "parse error")],
    ),
    (
        "unknown attribute",
        {
            "p.cedar": PERMIT + '@id("colour")\nforbid (principal, action, '
            'resource is Model) when { resource.colour == "red" };\n'
        },
        [("p.cedar", 2, "colour", "colour")],
    ),
    (
        "getTag without hasTag",
        {"p.cedar": 'forbid (principal, action, resource)\nwhen { principal.getTag("x") == "y" };'},
        [("p.cedar", 1, "p.cedar#0", "tag")] * 3,
    ),
    (
        "unknown action",
        {"p.cedar": 'permit (principal, action == Action::"fly", resource);'},
        [("p.cedar", 1, "p.cedar#0", "applicable"), ("p.cedar", 1, "p.cedar#0", "fly")],
    ),
    (
        "duplicate @id across files",
        {"a.cedar": '@id("x")\n' + PERMIT, "b.cedar": PERMIT + '@id("x")\n' + PERMIT},
        [("b.cedar", 2, "x", "duplicate policy id 'x' (first in a.cedar:1)")],
    ),
    ("bad @id", {"p.cedar": '@id("has space")\n' + PERMIT}, [("p.cedar", 1, None, "invalid @id")]),
    ("empty @id", {"p.cedar": "@id\n" + PERMIT}, [("p.cedar", 1, None, "invalid @id")]),
    (
        "template",
        {"p.cedar": "permit (principal == ?principal, action, resource);"},
        [("p.cedar", None, None, "templates")],
    ),
    ("not utf-8", {}, [("latin1.cedar", None, None, "cannot read")]),
    (
        "problems of all files",
        {"a.cedar": "nonsense", "b.cedar": "permit (principal"},
        [("a.cedar", 1, None, "parse error"), ("b.cedar", 1, None, "parse error")],
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"), [case[1:] for case in PROBLEMS], ids=[case[0] for case in PROBLEMS]
)
def test_problems(
    policy_dir: PolicyDir,
    schema: cedarpy.Schema,
    files: dict[str, str],
    expected: list[tuple[str, int | None, str | None, str]],
) -> None:
    if not files:
        (policy_dir.path / "latin1.cedar").write_bytes("// caf\xe9\n".encode("latin-1"))
    found = problems_of(policy_dir, schema, files)
    assert [(p.file, p.line, p.policy_id) for p in found] == [e[:3] for e in expected]
    for problem, (*_, fragment) in zip(found, expected, strict=True):
        assert fragment in problem.message


def test_validation_messages_use_stable_ids(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    text = PERMIT * 11 + 'permit (principal, action == Action::"fly", resource);'
    found = problems_of(policy_dir, schema, {"p.cedar": text})
    assert found[0].policy_id == "p.cedar#11"
    assert "policy `p.cedar#11`" in found[0].message
    assert str(found[0]).startswith("p.cedar:12: ")


def test_oversized_file(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    found = problems_of(policy_dir, schema, {"big.cedar": "//" + "x" * MAX_FILE_BYTES})
    assert [(p.file, "larger than" in p.message) for p in found] == [("big.cedar", True)]


def test_missing_directory(tmp_path: Path, schema: cedarpy.Schema) -> None:
    found = validate_dir(tmp_path / "absent", schema)
    assert len(found) == 1
    assert "cannot read policy directory" in found[0].message


def test_load_error_message_lists_problems(schema: cedarpy.Schema) -> None:
    with pytest.raises(PolicyLoadError, match=r"a\.cedar:1: parse error"):
        compile_policies({"a.cedar": "nonsense"}, schema)


def test_any_file_name_gives_usable_ids(policy_dir: PolicyDir, schema: cedarpy.Schema) -> None:
    policy_dir.write("my `odd` file.cedar", PERMIT)
    assert list(load_policies(policy_dir.path, schema).sources) == ["my `odd` file.cedar#0"]

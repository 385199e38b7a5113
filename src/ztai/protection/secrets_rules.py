"""Secret rules as values: the gitleaks rule set converted to JSON (shipped in ``data/``,
written by ``scripts/convert_gitleaks.py``), parsed once into frozen ``SecretRule`` values.
A malformed rule file raises ``RuleFileError``; nothing is guessed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

SHIPPED_RULES = "gitleaks_rules.json"


class RuleFileError(ValueError):
    """The rule file is not the JSON that the converter writes."""


class RegexTarget(StrEnum):
    SECRET = "secret"  # noqa: S105  (what an allowlist regex is matched against)
    MATCH = "match"
    LINE = "line"


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Findings to drop. ``require_all``: every kind of check present must hold (gitleaks'
    ``condition = "AND"``), else any regex or stopword suffices."""

    target: RegexTarget = RegexTarget.SECRET
    regexes: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()
    require_all: bool = False


@dataclass(frozen=True, slots=True)
class SecretRule:
    """``secret_group``: None takes the first non-empty group (gitleaks' default), 0 the whole
    match. ``entropy``: a finding needs strictly more bits per character than this."""

    id: str
    regex: str | None
    keywords: tuple[str, ...] = ()
    entropy: float | None = None
    secret_group: int | None = None
    path: str | None = None
    allowlists: tuple[Allowlist, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class RuleBook:
    rules: tuple[SecretRule, ...]
    allowlists: tuple[Allowlist, ...] = ()  # global: apply to every rule's findings
    source: str = ""


def load_shipped_rules() -> RuleBook:
    """The gitleaks rules shipped with ztai (MIT, notice inside the file)."""
    text = resources.files("ztai.protection").joinpath("data", SHIPPED_RULES).read_text("utf-8")
    return parse_rule_book(text)


def load_rule_book(path: Path) -> RuleBook:
    return parse_rule_book(path.read_text(encoding="utf-8"))


def parse_rule_book(text: str) -> RuleBook:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RuleFileError(f"not JSON: {exc}") from exc
    doc = _mapping(doc, "rule file")
    rules = tuple(_rule(_mapping(r, "rule")) for r in _list(doc, "rules"))
    return RuleBook(rules, _allowlists(doc), _text(doc, "source") or "")


def _rule(raw: Mapping[str, object]) -> SecretRule:
    rule_id = _text(raw, "id")
    if not rule_id:
        raise RuleFileError("a rule has no id")
    return SecretRule(
        id=rule_id,
        regex=_text(raw, "regex"),
        keywords=_strings(raw, "keywords"),
        entropy=_number(raw, "entropy"),
        secret_group=_int(raw, "secret_group"),
        path=_text(raw, "path"),
        allowlists=_allowlists(raw),
        description=_text(raw, "description") or "",
    )


def _allowlists(raw: Mapping[str, object]) -> tuple[Allowlist, ...]:
    return tuple(_allowlist(_mapping(a, "allowlist")) for a in _list(raw, "allowlists"))


def _allowlist(raw: Mapping[str, object]) -> Allowlist:
    try:
        target = RegexTarget(_text(raw, "target") or RegexTarget.SECRET)
    except ValueError as exc:
        raise RuleFileError(f"unknown allowlist target: {raw.get('target')!r}") from exc
    condition = _text(raw, "condition") or "OR"
    if condition not in ("OR", "AND"):
        raise RuleFileError(f"unknown allowlist condition: {condition!r}")
    return Allowlist(
        target,
        _strings(raw, "regexes"),
        _strings(raw, "stopwords"),
        _strings(raw, "paths"),
        _strings(raw, "commits"),
        condition == "AND",
    )


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise RuleFileError(f"{what} is not an object")
    return value


def _list(raw: Mapping[str, object], key: str) -> list[object]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise RuleFileError(f"{key} is not a list")
    return value


def _strings(raw: Mapping[str, object], key: str) -> tuple[str, ...]:
    values = _list(raw, key)
    if not all(isinstance(v, str) for v in values):
        raise RuleFileError(f"{key} holds a non-string")
    return tuple(str(v) for v in values)


def _text(raw: Mapping[str, object], key: str) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RuleFileError(f"{key} is not a string")


def _int(raw: Mapping[str, object], key: str) -> int | None:
    value = raw.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise RuleFileError(f"{key} is not an integer")


def _number(raw: Mapping[str, object], key: str) -> float | None:
    value = raw.get(key)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None if value is None else float(value)
    raise RuleFileError(f"{key} is not a number")

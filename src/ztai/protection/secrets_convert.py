"""Convert a gitleaks TOML config into the JSON rule file that ``secrets_rules`` reads: regexes
are kept verbatim (Go RE2 syntax, compiled by RE2 at start), keywords lower-cased as gitleaks
matches them, and the MIT notice carried inside the output."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from typing import Any

import re2

from ztai.protection.secrets_compile import compile_regex

NOTICE = (
    "Secret rules converted from the gitleaks default configuration (gitleaks/gitleaks, "
    "Copyright (c) 2019 Zachary Rice, MIT License, reproduced in 'license') by "
    "scripts/convert_gitleaks.py. Regexes are unchanged."
)


def convert_gitleaks(config_text: str, license_text: str, source: str) -> dict[str, object]:
    """The rule file as a JSON-ready dict. Raises ``tomllib.TOMLDecodeError`` on bad TOML."""
    config = tomllib.loads(config_text)
    digest = hashlib.sha256(config_text.encode("utf-8")).hexdigest()
    return {
        "format": "ztai-secret-rules/1",
        "source": f"{source} (minVersion {config.get('minVersion', '?')}, sha256 {digest})",
        "notice": NOTICE,
        "license": license_text,
        "allowlists": _allowlists(config, "allowlist", "allowlists"),
        "rules": [_rule(rule) for rule in config.get("rules", [])],
    }


def rule_file_text(converted: Mapping[str, object]) -> str:
    """Stable serialisation, so converting the same config twice gives the same bytes."""
    return json.dumps(converted, indent=1, ensure_ascii=False) + "\n"


def _rule(rule: Mapping[str, Any]) -> dict[str, object]:
    regex = rule.get("regex")
    return {
        "id": rule["id"],
        "description": rule.get("description", ""),
        "regex": regex,
        "path": rule.get("path"),
        "keywords": sorted({k.lower() for k in rule.get("keywords", [])}),
        "entropy": rule.get("entropy"),
        "secret_group": rule.get("secretGroup", _whole_match_group(regex)),
        "allowlists": _allowlists(rule, "allowlist", "allowlists"),
    }


def _whole_match_group(regex: str | None) -> int | None:
    """0 (the whole match) when every group is named: gitleaks names groups to label what a
    part is (``jwt-base64``: which header claim), not to pick out the secret."""
    try:
        compiled = compile_regex(regex) if regex else None
    except re2.error:
        return None  # the detector reports the rule as skipped when it compiles the file
    if compiled is None or not compiled.groups or len(compiled.groupindex) < compiled.groups:
        return None
    return 0


def _allowlists(table: Mapping[str, Any], single: str, many: str) -> list[dict[str, object]]:
    tables = ([table[single]] if single in table else []) + list(table.get(many, []))
    return [
        {
            "description": a.get("description", ""),
            "condition": a.get("condition", "OR").upper(),
            "target": a.get("regexTarget", "secret"),
            "regexes": list(a.get("regexes", [])),
            "stopwords": list(a.get("stopwords", [])),
            "paths": list(a.get("paths", [])),
            "commits": list(a.get("commits", [])),
        }
        for a in tables
    ]

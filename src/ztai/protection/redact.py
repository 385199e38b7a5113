"""Redaction: replace what detectors found, keeping the prompt useful. ``mask`` hides,
``hash`` keeps equal values equal without revealing them, ``placeholder`` names the type, and
``pseudonymise`` swaps each value for a stable token whose original a ``Vault`` keeps, so the
user's answer can be restored on the way back (the model never sees the value)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ztai.protection.model import Match

TOKEN = re.compile(r"⟦([A-Z_]{1,32})_(\d{1,6})⟧")  # fixed alphabet and bounded: linear
MAX_TOKEN_CHARS = 1 + 32 + 1 + 6 + 1
STRENGTH = ("pseudonymise", "placeholder", "hash", "mask")  # weakest first: irreversible wins


class Redaction(StrEnum):
    MASK = "mask"
    HASH = "hash"
    PLACEHOLDER = "placeholder"
    PSEUDONYMISE = "pseudonymise"


@dataclass(slots=True)
class Vault:
    """The originals behind pseudonyms for one conversation. Same value → same token."""

    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _by_token: dict[str, str] = field(default_factory=dict)

    def token(self, kind: str, value: str) -> str:
        key = (kind, value)
        found = self._by_value.get(key)
        if found is None:
            label = _type_name(kind)
            count = sum(1 for k, _ in self._by_value if _type_name(k) == label) + 1
            found = self._by_value[key] = f"⟦{label}_{count}⟧"
            self._by_token[found] = value
        return found

    def restore(self, text: str) -> str:
        """Put the originals back; unknown tokens (the model made one up) stay as they are."""
        return TOKEN.sub(lambda m: self._by_token.get(m.group(0), m.group(0)), text)

    def __len__(self) -> int:
        return len(self._by_token)

    @property
    def max_token_chars(self) -> int:
        return MAX_TOKEN_CHARS

    def __repr__(self) -> str:
        return f"Vault({len(self)} pseudonyms)"  # never the originals


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    replaced: int


def redact(
    text: str,
    matches: Iterable[Match],
    how: Mapping[str, Redaction] | Redaction,
    vault: Vault | None = None,
) -> Redacted:
    """Replace each match by the action for its kind; a kind with no action is left alone.
    Overlaps among the matches to replace: the earliest, then the longest, wins (a match with
    no action never shields an overlapping one that has one)."""
    todo = {m: action for m in matches if (action := _action(how, m)) is not None}
    out, cursor, replaced = [], 0, 0
    for match in _non_overlapping(todo):
        out.append(text[cursor:match.start])
        out.append(_replacement(todo[match], match.kind, text[match.start:match.end], vault))
        cursor, replaced = match.end, replaced + 1
    out.append(text[cursor:])
    return Redacted("".join(out), replaced)


def _action(how: Mapping[str, Redaction] | Redaction, match: Match) -> Redaction | None:
    return how if isinstance(how, Redaction) else how.get(match.kind)


def _replacement(action: Redaction, kind: str, value: str, vault: Vault | None) -> str:
    match action:
        case Redaction.MASK:
            return "█" * min(len(value), 12)
        case Redaction.HASH:
            return f"[{_type_name(kind)}:{hashlib.sha256(value.encode()).hexdigest()[:12]}]"
        case Redaction.PLACEHOLDER:
            return f"<{_type_name(kind)}>"
        case Redaction.PSEUDONYMISE:
            if vault is None:
                raise ValueError("pseudonymisation needs a vault")
            return vault.token(kind, value)


def _non_overlapping(matches: Iterable[Match]) -> list[Match]:
    chosen: list[Match] = []
    for match in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if match.end > match.start and (not chosen or match.start >= chosen[-1].end):
            chosen.append(match)
    return chosen


def _type_name(kind: str) -> str:
    """``pii.credit_card`` → ``CREDIT_CARD``; ``secret.aws-access-token`` → ``SECRET``."""
    family, _, rest = kind.partition(".")
    name = rest if family == "pii" else family
    return re.sub(r"[^A-Z]", "_", name.upper())[:32] or "DATA"

"""Sensitivity labels: an ordered, configurable set (default Public < General < Confidential <
Highly Confidential), rules that derive a label from findings, the mapping of external label ids
(e.g. Microsoft Purview GUIDs) onto ztai's names, and inheritance: what is built from labelled
inputs carries the highest of their labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

DEFAULT_LABELS = ("Public", "General", "Confidential", "Highly Confidential")


class UnknownLabel(ValueError):
    """A label name (or external id) that the configured set does not know."""


@dataclass(frozen=True, slots=True)
class LabelRule:
    """Findings whose kind matches ``kinds`` (shell-style patterns such as ``secret.*``)
    raise the label to at least ``label``."""

    kinds: tuple[str, ...]
    label: str


@dataclass(frozen=True, slots=True)
class LabelScheme:
    order: tuple[str, ...] = DEFAULT_LABELS
    rules: tuple[LabelRule, ...] = ()
    external: Mapping[str, str] = field(default_factory=dict)  # external id -> label name

    def __post_init__(self) -> None:
        if not self.order or len(set(self.order)) != len(self.order):
            raise ValueError("labels must be a non-empty list of distinct names")
        for name in (*(r.label for r in self.rules), *self.external.values()):
            self.rank(name)

    def rank(self, label: str) -> int:
        try:
            return self.order.index(label)
        except ValueError:
            raise UnknownLabel(f"unknown label {label!r}; known: {list(self.order)}") from None

    def resolve(self, label: str) -> str:
        """A label name, or an external id mapped to one; ``UnknownLabel`` otherwise (a
        document with an unrecognised label is not treated as unlabelled)."""
        name = self.external.get(label, label)
        self.rank(name)
        return name

    def highest(self, labels: Iterable[str | None]) -> str | None:
        present = [self.resolve(label) for label in labels if label]
        return max(present, key=self.rank) if present else None

    def derive(self, finding_kinds: Iterable[str]) -> str | None:
        """The highest label the rules give these findings; None if no rule applies."""
        kinds = list(finding_kinds)
        return self.highest(
            rule.label
            for rule in self.rules
            if any(fnmatchcase(k, p) for k in kinds for p in rule.kinds)
        )

    def at_least(self, label: str | None, floor: str) -> bool:
        return label is not None and self.rank(label) >= self.rank(floor)


def inherit(scheme: LabelScheme, sources: Sequence[str | None], kinds: Iterable[str]) -> str | None:
    """A response's label: the highest of its inputs' and sources' labels and of what its own
    findings derive."""
    return scheme.highest([*sources, scheme.derive(kinds)])

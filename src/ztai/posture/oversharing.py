"""Oversharing (DSPM for AI): sensitive documents (by label, or by what their content holds)
that broad audiences can read — everyone, or groups large by size or by name — ranked by risk,
each with the fixes that would close it. Pure: records and directory sizes in, an assessment
out. Risk = 100 x sensitivity x exposure: sensitivity is the label's place in the order (1.0
with credentials inside), exposure the share of the organisation that can read it (1.0 for
everyone; 0.5 for a group broad by name whose size is unknown)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ztai.knowledge.access import EVERYONE
from ztai.knowledge.model import DocumentRecord
from ztai.protection.labels import LabelScheme, UnknownLabel

BROAD_NAMES = ("group:all", "group:all-*", "group:all_*", "group:*everyone*", "group:*all staff*",
               "group:*all-staff*", "group:*all-employees*", "group:domain users",
               "group:*authenticated users*", "group:company*", "group:staff")
SEVERITIES = ((75, "critical"), (50, "high"), (25, "medium"), (0, "low"))


@dataclass(frozen=True, slots=True)
class Directory:
    """How many people principal refs stand for. ``sizes`` maps refs to member counts
    (``everyone`` to the organisation's size); groups of ``broad_min`` members or more, or
    whose ref matches ``broad_names`` (shell patterns, case-insensitive), are broad."""

    sizes: Mapping[str, int] = field(default_factory=dict)
    broad_min: int = 100
    broad_names: tuple[str, ...] = BROAD_NAMES

    @property
    def organisation(self) -> int | None:
        return self.sizes.get(EVERYONE) or max(self.sizes.values(), default=None)

    def is_broad(self, ref: str) -> bool:
        if ref == EVERYONE:
            return True
        if not ref.startswith("group:"):
            return False
        size = self.sizes.get(ref)
        return (size is not None and size >= self.broad_min) or any(
            fnmatchcase(ref.casefold(), pattern) for pattern in self.broad_names)


@dataclass(frozen=True, slots=True)
class Exposure:
    document: str
    title: str
    source: str
    owner: str | None
    label: str | None  # the label the index holds
    sensitivity: str  # the highest of the label and what the findings derive
    finding_kinds: tuple[str, ...]
    broad: tuple[tuple[str, int | None], ...]  # broad refs and their sizes, when known
    audience: int | None  # people who can read it, when known
    risk: int
    severity: str
    fixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    documents: int
    sensitive: int
    sensitive_from: str
    organisation: int | None
    exposures: tuple[Exposure, ...]  # riskiest first


def assess(records: Iterable[DocumentRecord], scheme: LabelScheme, directory: Directory,
           sensitive_from: str = "Confidential") -> Assessment:
    """``ValueError`` if ``sensitive_from`` is not one of the scheme's labels."""
    floor = scheme.rank(sensitive_from)
    count = sensitive = 0
    found: list[Exposure] = []
    for record in records:
        count += 1
        level, rank = _sensitivity(record, scheme)
        if rank < floor:
            continue
        sensitive += 1
        exposure = _exposure(record, level, rank, scheme, directory)
        if exposure is not None:
            found.append(exposure)
    found.sort(key=lambda e: (-e.risk, -(e.audience or 0), e.document))
    return Assessment(count, sensitive, sensitive_from, directory.organisation, tuple(found))


def _sensitivity(record: DocumentRecord, scheme: LabelScheme) -> tuple[str, int]:
    """The highest of the record's labels and its findings' derived label; an unknown label
    counts as the highest (fail closed)."""
    top = len(scheme.order) - 1
    try:
        level = scheme.highest([record.label, record.explicit_label,
                                scheme.derive(record.findings)])
    except UnknownLabel:
        return scheme.order[top], top
    if level is None:
        return "unlabelled", -1
    return level, scheme.rank(level)


def _exposure(record: DocumentRecord, level: str, rank: int, scheme: LabelScheme,
              directory: Directory) -> Exposure | None:
    broad = tuple((ref, directory.sizes.get(ref)) for ref in sorted(record.readers)
                  if directory.is_broad(ref))
    if not broad:
        return None
    kinds = tuple(sorted(record.findings))
    secrets = any(k.startswith("secret.") for k in kinds)
    sensitivity = 1.0 if secrets else (rank + 1) / len(scheme.order)
    audience, share = _reach(broad, directory)
    risk = round(100 * sensitivity * share)
    severity = next(name for floor, name in SEVERITIES if risk >= floor)
    return Exposure(record.id, record.title, record.source, record.owner, record.label, level,
                    kinds, broad, audience, risk, severity,
                    _fixes(record, level, broad, kinds, scheme))


def _reach(broad: tuple[tuple[str, int | None], ...], directory: Directory
           ) -> tuple[int | None, float]:
    organisation = directory.organisation
    if any(ref == EVERYONE for ref, _ in broad):
        return organisation, 1.0
    known = [size for _, size in broad if size is not None]
    if not known or not organisation:
        return (sum(known) or None), 0.5
    audience = min(sum(known), organisation)
    return audience, max(audience / organisation, 0.5 if len(known) < len(broad) else 0.0)


def _fixes(record: DocumentRecord, level: str, broad: tuple[tuple[str, int | None], ...],
           kinds: tuple[str, ...], scheme: LabelScheme) -> tuple[str, ...]:
    fixes = []
    for ref, size in broad:
        if ref == EVERYONE:
            fixes.append("Remove 'everyone' from the ACL; grant only the groups that need it")
        else:
            members = f" ({size:,} members)" if size is not None else ""
            fixes.append(f"Replace {ref}{members} with a narrower group")
    secrets = [k for k in kinds if k.startswith("secret.")]
    if secrets:
        fixes.append(f"Remove the credentials ({', '.join(secrets)}) and rotate them")
    if record.label is None:
        fixes.append(f"Apply a sensitivity label (the content suggests {level})")
    elif level != record.label and level in scheme.order:
        fixes.append(f"Relabel as {level}: the content holds {', '.join(kinds)}")
    if record.owner is None:
        fixes.append("Assign an owner accountable for reviewing access")
    else:
        fixes.append(f"Ask the owner ({record.owner}) to confirm who needs access")
    return tuple(fixes)

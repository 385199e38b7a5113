"""Who reads: ACL principal refs (``user:alice``, ``group:obsidian``, ``everyone``), the reader
a search runs for, and label clearance as a ceiling over an ordered list of labels. A reader
is one or more parties; every party must be able to read a document (an agent acting for a
user sees only what both may read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ztai.core.model import Principal
from ztai.knowledge.interface import InvalidDocument, LabelFilter

EVERYONE = "everyone"
REF_KINDS = ("user", "group", "agent", "service")
MAX_REF_CHARS = 256


def parse_ref(ref: object) -> str:
    """A valid principal ref, unchanged; ``InvalidDocument`` for anything else. Refs are
    compared exactly (case matters), as identity providers deliver them."""
    if not isinstance(ref, str):
        raise InvalidDocument(f"principal ref must be a string, got {type(ref).__name__}")
    if ref == EVERYONE:
        return ref
    kind, sep, name = ref.partition(":")
    if not sep or kind not in REF_KINDS or not name.strip() or name != name.strip():
        raise InvalidDocument(f"invalid principal ref {ref[:80]!r}: expected 'everyone', "
                              "'user:NAME', 'group:NAME', 'agent:NAME' or 'service:NAME'")
    if len(ref) > MAX_REF_CHARS or not ref.isprintable():
        raise InvalidDocument(f"invalid principal ref {ref[:80]!r}: too long or unprintable")
    return ref


def parse_acl(refs: Iterable[object]) -> frozenset[str]:
    return frozenset(parse_ref(ref) for ref in refs)


def parse_owner(owner: object) -> str | None:
    if owner is None:
        return None
    ref = parse_ref(owner)
    if not ref.startswith("user:"):
        raise InvalidDocument(f"owner must be a 'user:' ref, got {ref[:80]!r}")
    return ref


def refs_for(principal: Principal) -> frozenset[str]:
    """The refs one principal reads as: itself (by kind, so an agent named like a user never
    reads as that user), its groups and ``everyone``. For an agent acting for someone, the
    reader is ``Reader(tuple(refs_for(p) for p in principal.chain()), clearance)``."""
    return frozenset({EVERYONE, f"{principal.kind.value}:{principal.id}",
                      *(f"group:{g}" for g in principal.groups)})


@dataclass(frozen=True, slots=True)
class LabelCeiling:
    """Cleared for every label up to ``maximum`` in ``order`` (lowest first). A label the order
    does not know is above any ceiling (fail closed); unlabelled documents pass only with
    ``allow_unlabelled``. ``maximum=None`` clears nothing but, optionally, unlabelled ones."""

    order: tuple[str, ...]
    maximum: str | None
    allow_unlabelled: bool = True

    def __post_init__(self) -> None:
        if self.maximum is not None and self.maximum not in self.order:
            raise ValueError(f"unknown label {self.maximum!r}; known: {list(self.order)}")

    def __call__(self, label: str | None) -> bool:
        if label is None:
            return self.allow_unlabelled
        if self.maximum is None or label not in self.order:
            return False
        return self.order.index(label) <= self.order.index(self.maximum)


@dataclass(frozen=True, slots=True)
class Reader:
    """Whom a search or an authorization runs for: ``parties`` are ref sets that must each be
    able to read a document, ``clearance`` the labels the reader may see. A reader without
    parties or with an empty party reads nothing (``ValueError``: fail closed, never open)."""

    parties: tuple[frozenset[str], ...]
    clearance: LabelFilter

    def __post_init__(self) -> None:
        if not self.parties or not all(self.parties):
            raise ValueError("a reader needs at least one party with at least one ref")

    @classmethod
    def of(cls, refs: Iterable[str], clearance: LabelFilter) -> Reader:
        if isinstance(refs, str):
            raise TypeError("refs must be a collection of refs, not one string")
        return cls((frozenset(refs),), clearance)

    def may_read(self, readers: frozenset[str]) -> bool:
        """Whether a document readable by ``readers`` is readable by every party."""
        return all(not party.isdisjoint(readers) for party in self.parties)

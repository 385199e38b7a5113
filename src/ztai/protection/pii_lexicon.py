"""The word lists behind the model-free person and location detector: first names, surnames,
places from the files shipped in ``data/`` (sources and licenses in ``data/pii_PROVENANCE.md``),
and the common English words of ``ztai.core.words``; read once."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ztai.core.words import common_words

_DATA = "data"


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Lower-case word sets. ``places`` holds whole names, several words long for some."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]
    common_words: frozenset[str]

    @property
    def longest_place(self) -> int:
        """The most words in one place name: how far a lookup needs to look ahead."""
        return max((place.count(" ") + 1 for place in self.places), default=0)


def load_lexicon() -> Lexicon:
    """Read the shipped lists (a few MB of memory, tens of milliseconds); call once at start."""
    return Lexicon(
        first_names=_read("pii_first_names.txt"),
        surnames=_read("pii_surnames.txt"),
        places=_read("pii_places.txt"),
        common_words=common_words(),
    )


def _read(name: str) -> frozenset[str]:
    text = resources.files("ztai.protection").joinpath(_DATA, name).read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )

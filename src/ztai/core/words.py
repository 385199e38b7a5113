"""Common English words (``data/common_words.txt``, derived for ztai: see
``ztai/protection/data/pii_PROVENANCE.md``), shared by the capabilities that need to tell a word
from a name or from nonsense: the person-name detector, and the prompt shield reading Pig Latin
back. Read once, on first use."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def common_words() -> frozenset[str]:
    """About 17,000 lower-case words, single words only."""
    text = resources.files("ztai.core").joinpath("data", "common_words.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )

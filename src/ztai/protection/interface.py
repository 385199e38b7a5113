"""The detector interface. ``detect`` is pure and linear in the length of ``text`` (RE2,
Aho-Corasick or hand-written scanners only: no backtracking regex on attacker text); it never
raises for any input string."""

from __future__ import annotations

from typing import Protocol

from ztai.protection.model import Match


class Detector(Protocol):
    name: str

    def detect(self, text: str) -> list[Match]: ...

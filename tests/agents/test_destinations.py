"""Where a tool call sends things: e-mail domains and hosts named in its arguments, inside or
outside the organisation. Look-alike and other-script names, full-width forms and schemes
other than the web's were missed until 2026-11-27 (an address the rule of two never saw)."""

from __future__ import annotations

import pytest

from tests.deadline import within
from ztai.agents.destinations import DestinationFinder

FINDER = DestinationFinder(["corp.example"])


@pytest.mark.parametrize(("text", "domains", "external"), [
    ("mail carol@corp.example", ["corp.example"], []),
    ("to bob@mail.corp.example.", ["mail.corp.example"], []),
    ("see https://wiki.corp.example/page", ["wiki.corp.example"], []),
    ("send to collector@evil.example", ["evil.example"], ["evil.example"]),
    ("collector＠evil．example", ["evil.example"], ["evil.example"]),  # full-width @ and .
    ("collector@evіl.example", ["evіl.example"], ["evіl.example"]),  # a Cyrillic і
    ("post to https://bücher.example/x", ["bücher.example"], ["bücher.example"]),
    ("sftp://drop.evil.example/in", ["drop.evil.example"], ["drop.evil.example"]),
    ("ssh://git@evil.example:22/r", ["evil.example"], ["evil.example"]),
    ("s3://exfil-bucket/keys", ["exfil-bucket"], ["exfil-bucket"]),
    ("HTTPS://User:pw@Evil.Example:8443/a", ["evil.example"], ["evil.example"]),
    ("corp.example.evil.example", [], []),  # no scheme, no address: not a destination
    ("mailto:x@corp.example.evil.example", ["corp.example.evil.example"],
     ["corp.example.evil.example"]),
    ("a@b", [], []),
])
def test_destinations_are_found(text: str, domains: list[str], external: list[str]) -> None:
    found = FINDER.find([text])
    assert list(found.domains) == domains
    assert list(found.external) == external


def test_hostile_text_is_matched_in_linear_time() -> None:
    with within(5):
        for text in ("a@" * 40_000, "http://" * 20_000, "x" * 60_000 + "@", "@." * 40_000):
            FINDER.find([text])

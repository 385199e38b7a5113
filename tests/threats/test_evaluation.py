"""The shield evaluation's arithmetic on toy rows, with a fake scorer and a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from ztai.threats import evaluation as ev


def _row(text: str, label: int, kind: str = "", source: str = "s", category: str = "",
         role: str = ev.PROMPT) -> ev.Row:
    return ev.Row(text, label, kind or ("direct" if label else "benign"), source, category, role)


ROWS = [
    _row("a1", 1, source="atk"), _row("a2", 1, source="atk"), _row("a3", 1, source="atk"),
    _row("d1", 1, kind="indirect", source="doc", role=ev.DOCUMENT),
    _row("h1", 1, source="harm", category=ev.HARMFUL),
    _row("b1", 0, source="ok"), _row("b2", 0, source="ok"), _row("b3", 0, source="ok"),
    _row("b4", 0, source="ok"),
]
SCORES = {"a1": 0.9, "a2": 0.7, "a3": 0.2, "d1": 0.6, "h1": 0.95,
          "b1": 0.1, "b2": 0.3, "b3": 0.8, "b4": 0.05}


def _ticks(step: float) -> Callable[[], float]:
    counter: Iterator[int] = iter(range(10**6))
    return lambda: next(counter) * step


def _scored() -> list[ev.Scored]:
    scorers = {ev.PROMPT: SCORES.__getitem__, ev.DOCUMENT: SCORES.__getitem__}
    return ev.score_rows(ROWS, scorers, _ticks(0.001))


def test_counts_and_ratios() -> None:
    c = ev.count(_scored(), 0.5)
    # attacks >= 0.5: a1, a2, d1, h1; missed a3; benign flagged: b3
    assert (c.tp, c.fn, c.fp, c.tn) == (4, 1, 1, 3)
    assert c.precision == pytest.approx(0.8)
    assert c.recall == pytest.approx(0.8)
    assert c.f1 == pytest.approx(0.8)
    assert c.fpr == pytest.approx(0.25)
    assert ev.Counts().precision is None
    assert ev.Counts().f1 is None


def test_thresholds_per_role() -> None:
    c = ev.count(_scored(), {ev.PROMPT: 0.5, ev.DOCUMENT: 0.65})
    assert (c.tp, c.fn) == (3, 2)  # d1 (0.6) is below the document threshold


def test_slices_keep_harmful_requests_apart() -> None:
    report = ev.report(_scored(), {ev.PROMPT: 0.5, ev.DOCUMENT: 0.5})
    overall = report["slices"]["overall"]
    assert (overall["tp"], overall["fn"], overall["fp"], overall["tn"]) == (3, 1, 1, 3)
    assert report["slices"]["category:harmful_request"]["recall"] == 1.0
    assert report["slices"]["kind:indirect"]["tp"] == 1
    assert report["slices"]["kind:benign"]["fpr"] == 0.25
    assert report["sources"]["ok"]["fpr"] == 0.25
    assert report["sources"]["atk"]["recall"] == pytest.approx(2 / 3)
    assert report["rows"] == len(ROWS)


def test_threshold_for_a_false_positive_budget() -> None:
    scored = _scored()
    prompt = [s for s in scored if s.row.role == ev.PROMPT]
    assert ev.threshold_for_fpr(prompt, 0.0) > 0.8  # above every benign score
    assert 0.3 < ev.threshold_for_fpr(prompt, 0.25) <= 0.8  # one of four benign may pass
    assert ev.threshold_for_fpr(prompt, 1.0) == 0.0
    sweep = ev.report(scored, {ev.PROMPT: 0.5, ev.DOCUMENT: 0.5})["sweep"][ev.PROMPT]
    assert sweep["at_fpr"]["0.01"]["fpr"] == 0.0
    assert sweep["at_fpr"]["0.01"]["recall"] == pytest.approx(1 / 3)  # only a1 (0.9) > b3


def test_latency_percentiles() -> None:
    lat = ev.latency(_scored())
    assert lat["rows"] == len(ROWS)
    assert lat["ms_per_row"]["p50"] == pytest.approx(1.0)
    assert lat["ms_per_kb"]["p99"] == pytest.approx(1.0)  # short texts count as 1 KiB
    long_row = ev.Scored(_row("x" * 4096, 0), 0.0, 0.004)
    assert ev.latency([long_row])["ms_per_kb"]["p50"] == pytest.approx(1.0)
    assert ev.percentile([], 50) is None
    assert ev.percentile([3.0, 1.0, 2.0], 50) == 2.0


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"text": "hi", "label": 0}, ("hi", "benign", ev.PROMPT)),
        ({"text": "do x", "label": 1}, ("do x", "direct", ev.PROMPT)),
        ({"text": "do x", "label": 1, "context": "doc do x"}, ("doc do x", "indirect",
                                                               ev.DOCUMENT)),
        ({"text": "mail", "label": 0, "category": "benign_document"}, ("mail", "benign",
                                                                      ev.DOCUMENT)),
        ({"text": "t", "label": 0, "role": "document"}, ("t", "benign", ev.DOCUMENT)),
    ],
)
def test_parse_row_defaults(obj: dict[str, object], expected: tuple[str, str, str]) -> None:
    row = ev.parse_row(json.dumps(obj))
    assert (row.text, row.kind, row.role) == expected
    assert row.source == "unknown"


@pytest.mark.parametrize("line", ['{"label": 1}', '{"text": "x", "label": 2}',
                                  '{"text": "x", "label": true}', '[1]',
                                  '{"text": "x", "label": 0, "role": "system"}',
                                  '{"text": "x", "label": 1, "context": 7}'])
def test_parse_rows_rejects_bad_lines(line: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        ev.parse_rows(['{"text": "ok", "label": 0}', line])


def test_parse_rows_skips_blank_lines() -> None:
    assert len(ev.parse_rows(["", '{"text": "ok", "label": 0}', "  "])) == 1

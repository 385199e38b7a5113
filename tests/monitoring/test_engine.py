"""Replayed event streams through the risk engine: a fortnight of ordinary use stays at none;
scripted risky sequences reach the levels the documented scoring gives them; an agent that
suddenly uses new tools is flagged; levels decay; the same events give the same result."""

from __future__ import annotations

import math

import pytest

from tests.monitoring.replay import Replay
from tests.monitoring.streams import DAY, HOUR, MONDAY, Ev, normal_office, probing
from ztai.monitoring.engine import RiskEngine
from ztai.monitoring.scoring import ScoringOptions
from ztai.storage.model import AlertStatus, RiskLevel

ADELE = "user:adele"
WEEK2 = MONDAY + 7 * DAY + 2 * HOUR  # a Monday, 10:00 UTC


def routine(who: str, days: int = 5, per_hour: int = 6) -> list[Ev]:
    """A few days of plain office use, so the principal has a baseline of its own."""
    return [Ev(who, MONDAY + d * DAY + h * HOUR + i * (HOUR / per_hour), label="Public")
            for d in range(days) for h in range(8) for i in range(per_hour)]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_fortnight_of_ordinary_use_stays_at_none(seed: int) -> None:
    replay = Replay().run(normal_office(seed, days=10, people=8))
    assert len(replay.peaks) == 8 + 3  # every person and agent was assessed
    assert {ref: level for ref, level in replay.peaks.items() if level is not RiskLevel.NONE} == {}
    assert replay.alerts == []


def _prompt_attacks(n: int) -> list[Ev]:
    return [Ev(ADELE, WEEK2 + i * 60, denied=True, findings=("threat.injection",))
            for i in range(n)]


def _bulk_documents(n: int) -> list[Ev]:
    return [Ev(ADELE, WEEK2 + i * 60, findings=(f"fingerprint.match:plan-{i}",),
               label="Confidential") for i in range(n)]


def _consumer_upload(n: int) -> list[Ev]:
    return [Ev(ADELE, WEEK2 + i * 60, "Model::gpt-public", prompt_tokens=2000)
            for i in range(n)]


def _saturday_night(n: int) -> list[Ev]:
    return [Ev(ADELE, MONDAY + 5 * DAY - 5 * HOUR + i * 60, label="Public") for i in range(n)]


@pytest.mark.parametrize(("name", "script", "expected"), [
    ("two refused asks", probing(ADELE, WEEK2, 2), RiskLevel.NONE),
    ("three refused asks on one topic", probing(ADELE, WEEK2, 3), RiskLevel.MINOR),
    ("five refused asks on one topic", probing(ADELE, WEEK2, 5), RiskLevel.MODERATE),
    ("eight refused asks on one topic", probing(ADELE, WEEK2, 8), RiskLevel.ELEVATED),
    ("one prompt attack", _prompt_attacks(1), RiskLevel.MINOR),
    ("three prompt attacks", _prompt_attacks(3), RiskLevel.MODERATE),
    ("six prompt attacks", _prompt_attacks(6), RiskLevel.ELEVATED),
    ("fifteen protected documents in an hour", _bulk_documents(15), RiskLevel.MODERATE),
    ("fifty kilotokens to a consumer model", _consumer_upload(25), RiskLevel.MINOR),
    ("thirty requests on a Saturday night", _saturday_night(30), RiskLevel.MINOR),
])
def test_scripted_risky_sequences_reach_their_level(name: str, script: list[Ev],
                                                    expected: RiskLevel) -> None:
    replay = Replay().run(routine(ADELE)).run(script)
    assert replay.peaks.get(ADELE, RiskLevel.NONE) is expected, name


def test_an_agent_that_suddenly_uses_new_tools_is_flagged() -> None:
    office = normal_office(0, days=6, people=2)
    replay = Replay().run(office)
    sudden = [Ev("agent:bot0", MONDAY + 6 * DAY + i * 30, f"Tool::{tool}", action="call_tool")
              for i, tool in enumerate(("send_email", "delete_files", "export_contacts"))]
    replay.run(sudden)
    assert replay.peaks["agent:bot0"] is RiskLevel.MODERATE
    [alert] = replay.alerts_about("agent:bot0")
    assert [e.resource for e in alert.evidence] == [f"Tool::{e.resource.partition('::')[2]}"
                                                    for e in sudden]
    assert alert.indicators == {"new_tool": 36.0}
    assert {ref for ref, level in replay.peaks.items() if level is not RiskLevel.NONE} == {
        "agent:bot0"}
    quiet = Replay().run(normal_office(0, days=6, people=2))
    assert quiet.peaks["agent:bot0"] is RiskLevel.NONE  # the same week without the new tools


def test_a_tool_its_peers_use_counts_less() -> None:
    replay = Replay().run(normal_office(0, days=3, people=1))
    replay.run([Ev("agent:bot0", MONDAY + 3 * DAY, "Tool::crm_1", action="call_tool"),
                Ev("agent:bot0", MONDAY + 3 * DAY + 60, "Tool::wire", action="call_tool")])
    assessment = replay.engine.assess("agent:bot0", MONDAY + 3 * DAY + 60)
    assert assessment is not None
    # crm_1 is used by one of bot0's two peers: half the points of wire, which nobody uses
    assert assessment.summary == "new_tool 18"
    assert assessment.level is RiskLevel.MINOR
    assert replay.alerts_about("agent:bot0") == []


def test_a_new_agent_is_not_flagged_while_it_learns_its_tools() -> None:
    evs = [Ev("agent:fresh", MONDAY + i * 60, f"Tool::t{i}", action="call_tool")
           for i in range(29)]
    replay = Replay().run(evs)
    assert replay.peaks.get("agent:fresh", RiskLevel.NONE) is RiskLevel.NONE


def test_the_level_decays_by_the_half_life_and_the_alert_resolves() -> None:
    options = ScoringOptions()
    replay = Replay(RiskEngine(options)).run(routine(ADELE)).run(probing(ADELE, WEEK2, 8))
    peak_at = WEEK2 + 7 * 60
    [assessment] = [a for a in replay.engine.settle(peak_at) if a.principal == ADELE]
    score, half_life, t = assessment.score, options.half_life_s, options.thresholds

    def crossing(threshold: float) -> float:
        return peak_at + half_life * math.log2(score / threshold)

    assert replay.level_at(crossing(t.elevated) - 60, ADELE) is RiskLevel.ELEVATED
    assert replay.level_at(crossing(t.elevated) + 60, ADELE) is RiskLevel.MODERATE
    assert replay.level_at(crossing(t.moderate) + 60, ADELE) is RiskLevel.MINOR
    assert replay.level_at(crossing(t.minor) - 60, ADELE) is RiskLevel.MINOR
    assert replay.level_at(crossing(t.minor) + 60, ADELE) is RiskLevel.NONE
    statuses = [(a.revision, a.level, a.status) for a in replay.alerts_about(ADELE)]
    assert statuses == [(1, RiskLevel.MODERATE, AlertStatus.OPEN),
                        (2, RiskLevel.ELEVATED, AlertStatus.OPEN),
                        (3, RiskLevel.ELEVATED, AlertStatus.RESOLVED)]


def test_the_alert_carries_the_events_that_raised_it() -> None:
    replay = Replay().run(routine(ADELE))
    first = replay.seq + 1
    replay.run(probing(ADELE, WEEK2, 8))
    raised, escalated = replay.alerts_about(ADELE)
    # the fourth ask: probing 3 x 8 + denied (4 - ~2 allowed) x 4 passes 30, moderate
    assert raised.alert_id == escalated.alert_id == f"ra-{first + 3:012d}"
    assert [e.seq for e in raised.evidence] == list(range(first, first + 4))
    alert = escalated  # the seventh: probing 48 + denied ~20 + sensitive ~4 passes 60
    assert [e.seq for e in alert.evidence] == list(range(first, first + 7))
    assert all(e.topics == ("term.obsidian",) and e.decision == "deny" for e in alert.evidence)
    assert alert.evidence[0].points == {}  # the first ask earned nothing; the repeats did
    assert alert.indicators["probing"] == 48.0


def test_the_same_events_give_the_same_state_and_alerts() -> None:
    evs = [*normal_office(3, days=4, people=3), *probing(ADELE, MONDAY + 3 * DAY, 9)]
    evs.sort(key=lambda e: e.time)
    once, again = Replay().run(evs), Replay().run(evs)
    assert once.checkpoint() == again.checkpoint()
    assert once.alerts == again.alerts
    assert once.alerts


def test_a_restart_from_the_saved_state_gives_the_same_result() -> None:
    evs = [*normal_office(4, days=4, people=3), *probing(ADELE, MONDAY + 2 * DAY, 9)]
    evs.sort(key=lambda e: e.time)
    cut = len(evs) // 2 + 7
    whole = Replay().run(evs)
    first = Replay().run(evs[:cut])
    resumed = Replay(RiskEngine(ScoringOptions(), checkpoint=first.checkpoint()),
                     seq=first.seq, next_settle=first.next_settle).run(evs[cut:])
    assert resumed.checkpoint() == whole.checkpoint()
    assert first.alerts + resumed.alerts == whole.alerts

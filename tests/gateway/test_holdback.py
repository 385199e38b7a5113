"""The stream hold-back window on its own: whatever the chunking, a pseudonym is restored whole
and a finding is judged whole before any of it leaves; never more than the window (plus one
chunk) is held; events that cannot be cut fail closed; summaries are cleaned as a whole."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.deadline import within
from ztai.core.errors import StageFailed
from ztai.core.flow import Flow
from ztai.core.model import (
    Action,
    Exchange,
    ExchangeId,
    Principal,
    PrincipalId,
    PrincipalKind,
    Resource,
    ResourceKind,
)
from ztai.gateway.answer import AnswerPolicy, Blocked
from ztai.gateway.holdback import TextWindow
from ztai.gateway.openai.chat import ChatReader
from ztai.gateway.openai.paths import replace_strings, steps
from ztai.gateway.openai.responses import ResponsesReader
from ztai.gateway.plan import ReplyReader
from ztai.policy.interface import AuthzRequest
from ztai.policy.model import DlpRule
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.protection.redact import Vault
from ztai.upstream.interface import StreamEvent

CARD = "4111 1111 1111 1111"


class Rules:
    def __init__(self, *rules: DlpRule) -> None:
        self.rules = rules

    def rules_for(self, request: AuthzRequest) -> tuple[DlpRule, ...]:
        return self.rules


BLOCK_CARDS = DlpRule("cards", "block", "no cards", ())
REDACT_CARDS = DlpRule("cards", "redact", "hide cards", ("pii.credit_card",), "placeholder")


def _flow(vault: Vault | None = None) -> Flow:
    exchange = Exchange(ExchangeId("x-1"), "chat.completions", Action.INVOKE_MODEL,
                        Resource(ResourceKind.MODEL, "m"), ())
    flow = Flow(exchange, Principal(PrincipalId("alice"), PrincipalKind.USER))
    flow.restorer = vault
    return flow


def _window(*rules: DlpRule, vault: Vault | None = None, window: int = 64,
            reader: ReplyReader | None = None) -> tuple[TextWindow, Flow]:
    flow = _flow(vault)
    policy = AnswerPolicy((structured_pii_detector(),), LabelScheme(), Rules(*rules))
    return TextWindow(reader or ChatReader(), policy.guard(flow), window), flow


def _delta(text: str) -> StreamEvent:
    return StreamEvent({"choices": [{"index": 0, "delta": {"content": text}}]})


def _run(window: TextWindow, text: str, size: int) -> tuple[list[str], int]:
    """The texts of the events that went out, and the most characters ever held."""
    out: list[StreamEvent] = []
    most = 0
    for start in range(0, len(text), size):
        out += window.push(_delta(text[start:start + size]))
        sent = sum(len(_text(e)) for e in out)
        most = max(most, start + size - sent)
    out += window.flush()
    return [_text(e) for e in out], most


def _text(event: StreamEvent) -> str:
    return str((event.data or {})["choices"][0]["delta"]["content"])


@pytest.mark.parametrize("size", [1, 2, 5, 13])
def test_pseudonyms_are_restored_whatever_the_chunking(size: int) -> None:
    vault = Vault()
    token = vault.token("pii.email", "jane@example.com")
    text = f"Write to {token} today, and copy {token} on the reply. " * 3
    window, _ = _window(vault=vault)
    texts, _ = _run(window, text, size)
    assert "".join(texts) == text.replace(token, "jane@example.com")
    assert all("⟦" not in t and "⟧" not in t for t in texts)


@pytest.mark.parametrize("size", [1, 3, 8, 40])
def test_a_card_is_redacted_whole_and_the_window_stays_bounded(size: int) -> None:
    text = "The charge on " + CARD + " was reversed. " + "Thank you for your patience. " * 8
    window, flow = _window(REDACT_CARDS)
    texts, most = _run(window, text, size)
    assert "".join(texts) == text.replace(CARD, "<CREDIT_CARD>")
    assert not any("4111" in t for t in texts)
    # held: the window, one chunk, and a finding the cut moved back over (at most a window)
    assert most <= 2 * 64 + size
    assert [(f.kind, f.segment, f.span.start) for f in flow.findings] == [
        ("pii.credit_card", -1, 14)]


@pytest.mark.parametrize("size", [1, 7, 40])
def test_prose_is_held_no_longer_than_the_window(size: int) -> None:
    text = "Thank you for your patience, we will look into it and come back. " * 20
    window, _ = _window()
    _, most = _run(window, text, size)
    assert most <= 64 + 2 * size


@pytest.mark.parametrize(("run", "size"), [
    ("QUtJQVozTVpRN1lX" * 200, 7), ("41 4b 49 41 5a 33 " * 150, 5), ("A K I A Z 3 " * 200, 11),
], ids=["one word", "byte values", "spelled out"])
def test_a_run_across_the_window_is_held_until_it_ends_within_a_bound(run: str,
                                                                       size: int) -> None:
    """Found 2026-11-28: a key encoded longer than the window (a 164-character key is 492
    characters percent-encoded) was never held whole, so went out in pieces, never found. An
    event is held while a run of one word, or of words of four characters at most, crosses
    its end and goes on to the end of what is held — up to MAX_RUN_HOLD characters."""
    from ztai.gateway.holdback import MAX_RUN_HOLD

    short = f"Here it is: {run[:300]} — done, thank you for waiting. " + "Fine prose. " * 30
    window, _ = _window()
    texts, most = _run(window, short, size)
    assert "".join(texts) == short
    assert most >= 300  # the whole run was held before its first characters went
    _, most = _run(_window()[0], f"Here it is: {run} and more prose after it.", size)
    assert most <= MAX_RUN_HOLD + size + 64


@pytest.mark.parametrize("vault", [None, Vault()], ids=["plain", "with a vault"])
def test_events_with_nothing_found_go_out_as_they_came(vault: Vault | None) -> None:
    window, flow = _window(vault=vault)
    events = [_delta(f"Sentence number {i} of an ordinary answer. ") for i in range(12)]
    out = [e for event in events for e in window.push(event)]
    held = len(events) - len(out)
    out += window.flush()
    assert all(a is b for a, b in zip(out, events, strict=True))  # not rebuilt, not changed
    assert 0 < held <= 64 // len("Sentence number 1 of an ordinary answer. ") + 2
    assert flow.findings == []


def test_a_block_comes_before_any_part_of_the_finding() -> None:
    text = "words " * 20 + "card " + CARD + " end"  # (single letters would read as spelled)
    window, _ = _window(BLOCK_CARDS, window=32)
    sent: list[str] = []

    def stream() -> None:
        for start in range(0, len(text), 2):
            sent.extend(_text(e) for e in window.push(_delta(text[start:start + 2])))
        window.flush()

    with pytest.raises(Blocked) as blocked:
        stream()
    assert blocked.value.decision.policy_ids == ("cards",)
    assert sent  # the harmless part went out as it came
    assert "4111" not in "".join(sent)


def _two_pieces(content: str, arguments: str) -> StreamEvent:
    call = {"index": 0, "function": {"arguments": arguments}}
    return StreamEvent({"choices": [{"index": 0, "delta": {"content": content,
                                                           "tool_calls": [call]}}]})


def _arguments(text: str) -> StreamEvent:
    call = {"index": 0, "function": {"arguments": text}}
    return StreamEvent({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})


def test_a_finding_across_events_that_cannot_be_cut_blocks() -> None:
    window, _ = _window(REDACT_CARDS, window=8)
    events = [_two_pieces("paying", '{"card": "4111 1111'),
              _arguments(' 1111 1111", "note": "and thank you kindly"}')]
    with pytest.raises(Blocked, match="cannot be cut"):
        [window.push(event) for event in events]  # a push raises


def test_summaries_are_cleaned_whole_without_counting_twice() -> None:
    vault = Vault()
    token = vault.token("pii.email", "jane@example.com")
    window, flow = _window(REDACT_CARDS, vault=vault, reader=ResponsesReader())
    done = StreamEvent({"type": "response.output_text.done", "text": f"{token} {CARD}"})
    completed = StreamEvent({"type": "response.completed", "response": {"output": [
        {"type": "message", "content": [{"type": "output_text", "text": f"{token} {CARD}"}]}]}})
    out = window.push(done) + window.push(completed) + window.flush()
    assert (out[0].data or {})["text"] == "jane@example.com <CREDIT_CARD>"
    part = (out[1].data or {})["response"]["output"][0]["content"][0]
    assert part["text"] == "jane@example.com <CREDIT_CARD>"
    assert flow.findings == []  # summaries repeat what the deltas already recorded


def test_paths_rewrite_copies_and_fail_closed() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}
    changed = replace_strings(body, {"messages[0].content[1].text": "B"})
    assert changed["messages"][0]["content"][1]["text"] == "B"
    assert body["messages"][0]["content"][1]["text"] == "b"  # the original is untouched
    assert steps("choices[0].delta.tool_calls[2].function.arguments") == [
        "choices", 0, "delta", "tool_calls", 2, "function", "arguments"]
    assert steps("prompt.variables.key_2") == ["prompt", "variables", "key_2"]
    with pytest.raises(StageFailed):
        steps("prompt.variables.2key")
    for path in ("messages[1].content", "messages[0].role.x", "messages[0]", "messages[0]]"):
        with pytest.raises(StageFailed):
            replace_strings(body, {path: "x"})


def test_a_finding_that_began_in_text_already_sent_does_not_stall_the_window() -> None:
    # a card, an event without text (usage only), then a combining mark that clusters with the
    # card's last digit: the finding reaches into the third event; once the card was sent, the
    # finding began before the held text (start < 0) and the cut search set the cut to 0 again
    # and again, forever (found by random upstream answers through the gateway)
    window, _ = _window()
    with within(10):
        out = (window.push(_delta(CARD)) + window.push(StreamEvent({"usage": None}))
               + window.push(_delta("\u0301\uff46")) + window.flush())
    assert [(e.data or {}).get("choices") is not None for e in out] == [True, False, True]
    assert "".join(_text(e) for e in out if (e.data or {}).get("choices")) == \
        CARD + "\u0301\uff46"


def test_the_same_finding_under_a_rule_that_acts_on_it_blocks() -> None:
    window, _ = _window(REDACT_CARDS)
    window.push(_delta(CARD))
    window.push(StreamEvent({"usage": None}))
    window.push(_delta("\u0301\uff46"))
    with within(10), pytest.raises(Blocked):
        window.flush()


_FRAGMENTS = st.lists(st.sampled_from([CARD, "\u0301", "\uff46", "\u200b", " ", "x", "1", "-",
                                       "\n"]), max_size=12).map("".join)
_EVENTS = st.lists(st.one_of(_FRAGMENTS.map(_delta), st.just(StreamEvent({"usage": None}))),
                   max_size=8)


@given(_EVENTS, st.sampled_from(["none", "redact", "block"]))
@settings(max_examples=200, deadline=None)
def test_any_stream_is_released_or_blocked_in_bounded_time(events: list[StreamEvent],
                                                           rules: str) -> None:
    chosen = {"none": (), "redact": (REDACT_CARDS,), "block": (BLOCK_CARDS,)}[rules]
    window, _ = _window(*chosen)
    out: list[StreamEvent] = []
    with within(10):
        try:
            for event in events:
                out += window.push(event)
            out += window.flush()
        except Blocked:
            return
    texts = ["".join(t for _, t in ChatReader().delta_pieces(e.data or {})) for e in out]
    if rules == "none":  # nothing acted on: every character goes out, in order
        sent = ["".join(t for _, t in ChatReader().delta_pieces(e.data or {})) for e in events]
        assert "".join(texts) == "".join(sent)

"""Redaction keeps prompts useful; pseudonyms come back in the answer."""

from __future__ import annotations

import pytest

from ztai.protection.model import Match
from ztai.protection.redact import Redaction, Vault, redact

TEXT = "Mail jane@example.com or call +1 415 555 0100 about card 4111 1111 1111 1111."
MATCHES = [Match("pii.email", 5, 21), Match("pii.phone", 30, 45),
           Match("pii.credit_card", 57, 76)]


@pytest.mark.parametrize(("how", "expected"), [
    (Redaction.PLACEHOLDER,
     "Mail <EMAIL> or call <PHONE> about card <CREDIT_CARD>."),
    (Redaction.MASK, "Mail ████████████ or call ████████████ about card ████████████."),
])
def test_redaction_actions(how: Redaction, expected: str) -> None:
    result = redact(TEXT, MATCHES, how)
    assert result.text == expected
    assert result.replaced == 3


def test_hash_keeps_equal_values_equal() -> None:
    text = "a@b.io and a@b.io"
    matches = [Match("pii.email", 0, 6), Match("pii.email", 11, 17)]
    first, second = redact(text, matches, Redaction.HASH).text.split(" and ")
    assert first == second
    assert "a@b.io" not in first


def test_per_kind_actions_leave_other_kinds_alone() -> None:
    result = redact(TEXT, MATCHES, {"pii.credit_card": Redaction.PLACEHOLDER})
    assert result.text == TEXT.replace("4111 1111 1111 1111", "<CREDIT_CARD>")


def test_pseudonyms_are_stable_and_restored() -> None:
    vault = Vault()
    text = "jane@example.com wrote to bob@example.com; jane@example.com again"
    matches = [Match("pii.email", 0, 16), Match("pii.email", 26, 41), Match("pii.email", 43, 59)]
    sent = redact(text, matches, Redaction.PSEUDONYMISE, vault).text
    assert sent == "⟦EMAIL_1⟧ wrote to ⟦EMAIL_2⟧; ⟦EMAIL_1⟧ again"
    answer = "I will reply to ⟦EMAIL_2⟧ and cc ⟦EMAIL_1⟧ (not ⟦EMAIL_9⟧)."
    assert vault.restore(answer) == ("I will reply to bob@example.com and cc jane@example.com "
                                     "(not ⟦EMAIL_9⟧).")
    assert "jane" not in repr(vault)


def test_overlaps_keep_the_earliest_longest() -> None:
    matches = [Match("pii.email", 5, 21), Match("pii.person", 5, 9), Match("x.y", 10, 30)]
    assert redact(TEXT, matches, Redaction.PLACEHOLDER).text.startswith("Mail <EMAIL> or")


def test_pseudonymise_needs_a_vault() -> None:
    with pytest.raises(ValueError, match="vault"):
        redact(TEXT, MATCHES, Redaction.PSEUDONYMISE)


def test_a_match_without_action_does_not_shield_one_with_an_action() -> None:
    text = "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 here"
    matches = [Match("pii.person", 0, 20), Match("secret.github-pat", 6, 46)]
    result = redact(text, matches, {"secret.github-pat": Redaction.PLACEHOLDER})
    assert result.text == "token <SECRET> here"

"""The name detector tokenises only the words its rules can read (around capitalised words, or
around listed names in lower-case text). It must report exactly what the rules report when
they are given every word: compared here with that reference on generated and edge-case text."""

from __future__ import annotations

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from ztai.protection.pii_lexicon import Lexicon, load_lexicon
from ztai.protection.pii_name_rules import RunJudge
from ztai.protection.pii_name_words import CUE_WORDS, PARTICLES
from ztai.protection.pii_names import NameDetector, runs
from ztai.protection.pii_scan import scan
from ztai.protection.pii_tokens import tokenize, word_pattern, word_spans

LEXICON = load_lexicon()
NAMES = NameDetector(LEXICON)
WORDS = word_pattern()


def every_word(lexicon: Lexicon, text: str) -> list[tuple[str, int, int, float]]:
    """The rules on every word of ``text``: what the detector must find."""
    tokens = tokenize(WORDS, text)
    lower_case = not any(char.isupper() for char in text)

    def is_shaped(index: int) -> bool:
        word = tokens[index].lower
        if not lower_case:
            return tokens[index].is_capitalised
        after_first = index > 0 and tokens[index - 1].lower in lexicon.first_names
        listed = word in lexicon.first_names or word in lexicon.places or after_first
        return listed and word not in lexicon.common_words

    judge = RunJudge(lexicon, tokens)
    shaped = [is_shaped(i) for i in range(len(tokens))]
    return [
        (kind, tokens[first].start, tokens[last].end, score)
        for run in runs(tokens, shaped)
        for kind, first, last, score in judge.judge(run)
    ]


def detected(text: str) -> list[tuple[str, int, int, float]]:
    return [(m.kind, m.start, m.end, m.score) for m in NAMES.detect(text)]


_VOCABULARY = [
    *sorted(CUE_WORDS), *sorted(PARTICLES), "anna", "maria", "juan", "smith", "kowalski", "voet",
    "paris", "lyon", "new", "york", "kwaxuma", "florence", "will", "may", "mark", "the", "team",
    "iphone", "mcdonald", "o'brien", "jean-luc", "doi", "müller", "ærø", "ǆemal", "żółw",
]  # fmt: skip
_SEPARATORS = [" ", " ", " ", ". ", ", ", "\n", "  ", "-", "'", "’", "'s ", "’s ", "--", " (",
               ") ", "; ", "\t", "", "« ", " 42 ", "\u0301 ", "é ", "“"]  # fmt: skip


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 25))):
        word = draw(st.sampled_from(_VOCABULARY))
        case = draw(st.sampled_from(["lower", "lower", "capitalize", "upper", "iPhone"]))
        if case == "iPhone":
            word = word[:1] + word[1:].capitalize()
        elif case != "lower":
            word = getattr(word, case)()
        parts += [word, draw(st.sampled_from(_SEPARATORS))]
    return "".join(parts)


@settings(max_examples=400)
@given(texts())
def test_reading_around_capitals_finds_what_reading_every_word_finds(text: str) -> None:
    assert detected(text) == every_word(LEXICON, text)


@settings(max_examples=200)
@given(texts())
def test_reading_around_listed_words_finds_the_same_in_lower_case(text: str) -> None:
    assert detected(text.lower()) == every_word(LEXICON, text.lower())


@pytest.mark.parametrize(
    "text",
    [
        # particles chain beyond any look-back window
        "Juan " + "de la " * 8 + "Cruz met " + "van der " * 8 + "Berg",
        "maria " + "de la " * 6 + "paz came",
        # cues at the edge of the look-back, with possessives and two-character gaps
        "I said,  call me, Mark",
        "my name's, is's Jesenko",
        "calls's, me's, Anna",
        "we moved here from. Kwaxuma",
        "visiting Lyon",
        "xvisiting Lyon",
        "Dr. Qwerty and dr Who",
        # capitals inside words, joiners, non-ASCII neighbours
        "iPhone McDonald O'Brien Jean-Luc x-Anna é-Anna «Anna» ’Anna",
        "Ærø and ǅemal met Ϋ Żółw",
        "the Mr's Smith",
        "\ud800 Anna Smith \udfff",
        "A B C Anna",
    ],
)
def test_edge_cases_match_every_word(text: str) -> None:
    assert detected(text) == every_word(LEXICON, text)


def test_every_upper_case_letter_can_start_a_window() -> None:
    # Windows start where RE2 finds [\p{Lu}\p{Lt}]; Python's isupper decides capitalisation.
    upper = "".join(chr(c) for c in range(0x110000) if chr(c).isupper())
    letters = re2.findall(r"[\p{L}\p{M}]", upper)
    assert len(re2.findall(r"[\p{Lu}\p{Lt}]", "".join(letters))) == len(letters)


_ASCII = st.text(alphabet=st.sampled_from([*"abZ '-’.\n,9_"]), max_size=40)


@given(_ASCII)
def test_ascii_words_are_split_as_re2_finds_them(text: str) -> None:
    assert word_spans(WORDS, text) == list(scan(WORDS, text))


@pytest.mark.parametrize(
    "text",
    [
        "A " * 10_000,  # capitals that never make a name
        "1A" * 10_000,
        "«A»" * 6_000,  # capitals behind non-ASCII characters
        "from Anna. " * 2_000,  # a cue before every capital
        "Anna " + "van " * 5_000 + "Berg",  # one long chain of particles
        "anna maria " * 2_000,  # lower-case mode
    ],
)
def test_adversarial_inputs_match_every_word(text: str) -> None:
    # Every window's work is bounded by the text it passes: a quadratic walk would not finish.
    assert detected(text) == every_word(LEXICON, text)

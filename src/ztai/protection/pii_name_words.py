"""Small closed word classes that steer the name and place rules: honorifics, name particles,
company words and the cues that announce a place or a person."""

from __future__ import annotations

HONORIFICS = frozenset(
    ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "madame", "mister", "dame")
)
# Lower-case words inside names and places: "Donald van der Voet", "Isle of Man".
PARTICLES = frozenset(
    ("van", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "von", "la",
     "le", "bin", "ibn", "al", "ter", "nad", "of", "the")
)  # fmt: skip
# A run of capitalised words with one of these is an organisation, which is not reported.
ORG_WORDS = frozenset(
    ("inc", "ltd", "llc", "llp", "plc", "corp", "corporation", "company", "co", "group",
     "bank", "university", "college", "school", "hospital", "institute", "foundation",
     "association", "agency", "gmbh", "ag", "limited", "partners", "holdings", "solutions",
     "systems", "technologies", "consulting", "services", "church")
)  # fmt: skip
# Words right before a place: "from Kwaxuma", "visiting Lyon".
PLACE_CUES = frozenset(
    ("in", "from", "near", "visit", "visiting", "visited", "toward", "towards", "outside")
)
# Words that introduce a person's name in conversation: "my name is", "call me", "Dear".
NAME_CUES = (
    ("name", "is"), ("named",), ("called",), ("call", "me"), ("calls", "me"), ("hi",),
    ("hello",), ("dear",), ("hey",), ("says",), ("said",), ("thanks",),
)  # fmt: skip
# Every word the rules look for before a run of capitalised words.
CUE_WORDS = HONORIFICS | PLACE_CUES | frozenset(word for cue in NAME_CUES for word in cue)

"""Street addresses, model-free: RE2 patterns for the common ways streets are written (a number
and a street type, "Rue ..."/"Via ..."/"ul. ..." before a name, Germanic and Nordic compounds
such as "Hauptstraße 5"), P.O. boxes, US military addresses and labelled ZIP codes, each
extended over a following unit, city, state and postcode."""

from __future__ import annotations

from ztai.protection.model import Match
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_scan import compile_pattern, has_digit, has_upper, scan

_SUFFIXES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|square|sq|"
    "terrace|way|parkway|pkwy|highway|hwy|circle|cir|trail|crescent|close|row|alley|loop|plaza|"
    "crossing|mews|grove|gardens|heights|ridge|pike|expressway|freeway|turnpike|creek|view|"
    "vista|station|rise|glen|quay|wharf|esplanade|parade|broadway|walk|path|park|hill|point|"
    "utca|u\\.|út|útja|körút|tér|fasor|sor"
)
_PREFIXES = (
    r"rue|avenue|av\.|boulevard|bd\.?|via|viale|piazza|corso|calle|avenida|avda\.|rua|r\.|"
    r"estrada|travessa|largo|praça|plaza|paseo|carrer|camino|carretera|ctra\.|ul\.|ulica|"
    r"aleja|al\.|route|chemin|allée|impasse|quai|cours|place"
)
_COMPOUNDS = (
    "straße|strasse|str\\.|gasse|weg|allee|platz|ring|damm|ufer|vej|gade|gata|gatan|vägen|väg|"
    "veien|vegen|gate|laan|straat|plein|dreef|steeg|kade|gracht|katu|tie|utca|út|körút|tér"
)
_NUM = r"\d{1,5}[A-Za-z]?"
_UNIT = r"(?i:apt\.?|apartment|suite|ste\.?|unit|flat|floor|room|#) ?\d{1,5}[A-Za-z]?"
_MILITARY = r"(?i:(?:PSC|Unit|USNS|USS|USNV|USCGC) [\p{L}0-9 ,]{1,40}\n? ?[AFD]PO A[AEP] \d{5})"
_POBOX = r"(?i:p\.? ?o\.? ?box|postbox|postboks|apartado|case postale) \d{1,6}"
_ZIP = r"(?i:zip(?: ?code)?|postal code|postcode)(?: is|:)? ?(\d{5}(?:-\d{4})?)"


def _pattern(word: str) -> str:
    place = word.replace(".", "")  # a full stop after a city ends the sentence
    part = rf"(?:{word}|\d{{1,4}}(?i:st|nd|rd|th)\b|(?i:de|des|du|la|le|di|da|del|do|dos|das)\b)"
    words = rf"{part}(?: {part})*"
    number = rf"(?:{_NUM} ){{1,2}}"
    streets = "|".join(
        [
            rf"{number}{words} (?i:{_SUFFIXES})\b\.?(?: {_NUM}\b\.?)?",
            rf"(?:{number})?{words} (?i:{_SUFFIXES})\b\.? {_NUM}\b\.?",
            rf"(?:{number})?(?i:{_PREFIXES}) {words}(?: {_NUM}\b)?",
            rf"(?:{number})?(?:{word} )*[\p{{L}}\p{{M}}]{{2,}}(?i:{_COMPOUNDS}) {_NUM}\b",
            rf"(?:{number})?{_POBOX}",
        ]
    )
    line = r"[ \t]*(?:,|\n[ \t>•·*]*,?)[ \t]*"
    unit = rf"(?:{line}|[ \t]+){_UNIT}"
    city = rf"{line}{place}(?: {place})*(?:,? [A-Z]{{2}}\b)?"
    # A name and a number ("Jakobi 69") is a street only when a unit or a city line follows.
    generic = rf"{number}{words} {_NUM}\b(?:{unit}|{city})"
    postcode = r"(?:[ \t]*[,\n]?[ \t]*)\d{4,6}\b"
    street = rf"(?:{streets})(?:{unit})?|{generic}"
    return rf"(?:{street})(?:{city}){{0,3}}(?:{postcode})?|{_MILITARY}|{_ZIP}"


# A superset of what a reported match needs when the text has no digit: a street prefix at the
# start or after anything but an ASCII letter or digit (any non-ASCII character might not be a
# letter either), a space, then a word or a particle.
_PREFIXED = rf"(?:^|[^A-Za-z0-9])(?i:{_PREFIXES}) [\p{{L}}0-9]"
_CASED_WORD = r"[\p{Lu}][\p{L}\p{M}'’.\-]*"
_ANY_WORD = r"[\p{L}][\p{L}\p{M}'’.\-]*"


class StreetAddressDetector:
    """Street lines and the address lines after them. Street and city words must be
    capitalised unless the text has no capital letter at all."""

    name = "pii.street_address"
    __slots__ = (
        "_cased",
        "_lower",
        "_prefixed",
    )

    def __init__(self) -> None:
        self._cased = compile_pattern(_pattern(_CASED_WORD))
        self._lower = compile_pattern(_pattern(_ANY_WORD))
        self._prefixed = compile_pattern(_PREFIXED)

    def detect(self, text: str) -> list[Match]:
        if not (has_digit(text) or self._may_have_prefixed_street(text)):
            return []
        pattern = self._cased if has_upper(text) else self._lower
        return [
            Match(PiiKind.STREET_ADDRESS, start, end, 0.8, self.name)
            for start, end in scan(pattern, text)
            if start == 0 or not text[start - 1].isalnum()
        ]

    def _may_have_prefixed_street(self, text: str) -> bool:
        """Without a digit, only a street after a prefix ("Rue …") can match, and a reported
        one starts the text or follows a character that is not a letter or digit."""
        try:
            return self._prefixed.search(text.encode("utf-8")) is not None
        except UnicodeEncodeError:  # lone surrogates: let the full pattern decide
            return True

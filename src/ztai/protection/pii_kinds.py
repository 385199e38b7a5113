"""The kinds of personal data the PII detectors report, and their Presidio entity names."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class PiiKind(StrEnum):
    EMAIL = "pii.email"
    PHONE = "pii.phone"
    CREDIT_CARD = "pii.credit_card"
    IBAN = "pii.iban"
    US_SSN = "pii.us_ssn"
    US_ITIN = "pii.us_itin"
    UK_NINO = "pii.uk_nino"
    IP_ADDRESS = "pii.ip_address"
    STREET_ADDRESS = "pii.street_address"
    PERSON = "pii.person"
    LOCATION = "pii.location"

    @property
    def presidio_name(self) -> str:
        """The entity type Presidio (and presidio-research's data sets) use for this kind."""
        return _PRESIDIO_NAMES[self]


_PRESIDIO_NAMES = MappingProxyType(
    {
        PiiKind.EMAIL: "EMAIL_ADDRESS",
        PiiKind.PHONE: "PHONE_NUMBER",
        PiiKind.CREDIT_CARD: "CREDIT_CARD",
        PiiKind.IBAN: "IBAN_CODE",
        PiiKind.US_SSN: "US_SSN",
        PiiKind.US_ITIN: "US_ITIN",
        PiiKind.UK_NINO: "UK_NINO",
        PiiKind.IP_ADDRESS: "IP_ADDRESS",
        PiiKind.STREET_ADDRESS: "STREET_ADDRESS",
        PiiKind.PERSON: "PERSON",
        PiiKind.LOCATION: "LOCATION",
    }
)

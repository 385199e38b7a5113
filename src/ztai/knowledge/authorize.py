"""The authorization API for RAG apps that keep their own vector store: candidate document ids
and a reader in, the permitted subset (with labels) out. A dictionary lookup and a set test
per candidate, so it is cheap enough to call on every query."""

from __future__ import annotations

from collections.abc import Sequence

from ztai.core.errors import BadRequest
from ztai.knowledge.access import Reader
from ztai.knowledge.doctable import DocTable
from ztai.knowledge.model import Authorization, DenialReason, DocumentId, Permitted

MAX_CANDIDATES = 10_000


def authorize(table: DocTable, ids: Sequence[str], reader: Reader) -> Authorization:
    if len(ids) > MAX_CANDIDATES:
        raise BadRequest(f"at most {MAX_CANDIDATES} candidate documents per call", param="ids")
    permitted: list[Permitted] = []
    denied: list[tuple[DocumentId, DenialReason]] = []
    for raw in ids:
        if not isinstance(raw, str):
            raise BadRequest("document ids must be strings", param="ids")
        doc = DocumentId(raw)
        number = table.number(doc)
        record = None if number is None else table.record(number)
        if record is None:
            denied.append((doc, DenialReason.UNKNOWN))
        elif not reader.may_read(record.readers):
            denied.append((doc, DenialReason.NO_ACCESS))
        elif reader.clearance(record.label) is not True:
            denied.append((doc, DenialReason.LABEL))
        else:
            permitted.append(Permitted(doc, record.label, record.title))
    return Authorization(tuple(permitted), tuple(denied))

"""Tamper-evident audit: every exchange hash-chained, committed before the response goes out."""

from ztai.audit.anchor import append_anchor, read_anchors
from ztai.audit.canonical import canonical_json, encode_event, event_to_dict
from ztai.audit.chain import GENESIS_HASH, entry_hash, link
from ztai.audit.committer import WriterOptions
from ztai.audit.reader import entry_record, export_jsonl, tail, verify_store
from ztai.audit.signing import (
    CheckpointSigner,
    generate_key_file,
    key_id_of,
    load_public_key,
    verify_checkpoint,
)
from ztai.audit.verify import Problem, VerifyReport, verify_chain
from ztai.audit.writer import AuditWriter

__all__ = [
    "GENESIS_HASH",
    "AuditWriter",
    "CheckpointSigner",
    "Problem",
    "VerifyReport",
    "WriterOptions",
    "append_anchor",
    "canonical_json",
    "encode_event",
    "entry_hash",
    "entry_record",
    "event_to_dict",
    "export_jsonl",
    "generate_key_file",
    "key_id_of",
    "link",
    "load_public_key",
    "read_anchors",
    "tail",
    "verify_chain",
    "verify_checkpoint",
    "verify_store",
]

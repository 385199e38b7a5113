"""A snapshot on disk: one directory of ``.npy`` arrays (the compacted segment) beside the
document records (``docs.jsonl``) and ``meta.json``. Arrays, not SQLite: postings are read as
memory maps, so opening a million-chunk index costs no parsing and the page cache is shared by
every process reading it, and scoring slices them with no copy. A snapshot is written to a
temporary directory, synced, then renamed: readers see all of it or none."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from ztai.knowledge.codec import decode_record, encode_record
from ztai.knowledge.interface import IndexCorrupt
from ztai.knowledge.model import DocumentRecord
from ztai.knowledge.segment import ChunkTable, Segment

FORMAT = "ztai-knowledge/1"
_ARRAYS = ("offsets", "postings", "freqs", "doc", "length", "ordinal", "span", "text",
           "text_offsets")


@dataclass(frozen=True, slots=True)
class Meta:
    generation: int
    chunk_chars: int
    dimension: int | None

    def as_json(self, documents: int, chunks: int) -> dict[str, Any]:
        return {"format": FORMAT, "generation": self.generation, "chunk_chars": self.chunk_chars,
                "dimension": self.dimension, "documents": documents, "chunks": chunks}


def write(directory: Path, meta: Meta, segment: Segment, records: Sequence[DocumentRecord]
          ) -> None:
    staging = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    table = segment.chunks
    arrays = {"offsets": segment.offsets, "postings": segment.postings, "freqs": segment.freqs,
              "doc": table.doc, "length": table.length, "ordinal": table.ordinal,
              "span": table.span, "text": table.text, "text_offsets": table.text_offsets,
              "terms": _terms_blob(segment)}
    if segment.vectors is not None:
        arrays["vectors"] = segment.vectors
    for name, array in arrays.items():
        _durable(staging / f"{name}.npy", lambda f, a=array: np.save(f, np.asarray(a)))
    _durable(staging / "docs.jsonl", lambda f: f.writelines(
        orjson.dumps(encode_record(r)) + b"\n" for r in records))
    _durable(staging / "meta.json", lambda f: f.write(
        orjson.dumps(meta.as_json(len(records), len(table)))))
    staging.rename(directory)
    sync_directory(directory.parent)


def read(directory: Path) -> tuple[Meta, Segment, list[DocumentRecord]]:
    """Raises ``IndexCorrupt`` for anything inconsistent, ``OSError`` if a file is missing."""
    try:
        return _read(directory)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:  # incl. JSON errors
        raise IndexCorrupt(f"{directory}: damaged snapshot ({type(exc).__name__})") from None


def read_meta(directory: Path) -> Meta:
    """The snapshot's metadata alone; ``IndexCorrupt`` if damaged, ``OSError`` if missing."""
    try:
        return _meta(directory)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{directory}: damaged snapshot ({type(exc).__name__})") from None


def _meta(directory: Path) -> Meta:
    raw = orjson.loads((directory / "meta.json").read_bytes())
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise IndexCorrupt(f"{directory}: not a {FORMAT} snapshot")
    return Meta(int(raw["generation"]), int(raw["chunk_chars"]),
                None if raw["dimension"] is None else int(raw["dimension"]))


def _read(directory: Path) -> tuple[Meta, Segment, list[DocumentRecord]]:
    meta = _meta(directory)
    arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r").view(np.ndarray)
              for name in _ARRAYS}
    names = bytes(np.load(directory / "terms.npy")).decode("utf-8")
    vocab = {term: row for row, term in enumerate(names.split("\n"))} if names else {}
    vectors = np.load(directory / "vectors.npy", mmap_mode="r").view(np.ndarray) \
        if meta.dimension is not None else None
    acls: dict[tuple[str, ...], frozenset[str]] = {}
    with (directory / "docs.jsonl").open("rb") as lines:
        records = [decode_record(orjson.loads(line), acls) for line in lines]
    table = ChunkTable(arrays["doc"], arrays["length"], arrays["ordinal"], arrays["span"],
                       arrays["text"], arrays["text_offsets"])
    segment = Segment(vocab, arrays["offsets"], arrays["postings"], arrays["freqs"], table,
                      vectors)
    check(segment, records, meta.dimension)
    return meta, segment, records


def check(segment: Segment, records: Sequence[DocumentRecord], dimension: int | None) -> None:
    """Cheap structural checks, so that a damaged snapshot fails to open instead of answering
    wrongly."""
    table, chunks = segment.chunks, len(segment.chunks)
    problems = [
        len(segment.offsets) != len(segment.vocab) + 1,
        int(segment.offsets[-1]) != len(segment.postings) or len(segment.freqs) != len(
            segment.postings),
        any(len(a) != chunks for a in (table.length, table.ordinal, table.span)),
        len(table.text_offsets) != chunks + 1 or int(table.text_offsets[-1]) != len(table.text),
        chunks > 0 and (int(table.doc.max()) >= len(records) or bool(
            (np.diff(table.doc) < 0).any())),
        len(segment.postings) > 0 and int(segment.postings.max()) >= chunks,
        len({r.id for r in records}) != len(records),
        segment.vectors is not None and segment.vectors.shape != (chunks, dimension),
    ]
    if any(problems):
        raise IndexCorrupt("snapshot arrays are inconsistent")


def sync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _terms_blob(segment: Segment) -> npt.NDArray[np.uint8]:
    names = [""] * len(segment.vocab)
    for term, row in segment.vocab.items():
        names[row] = term
    return np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8)


def _durable(path: Path, write_to: Any) -> None:
    with path.open("wb") as handle:
        write_to(handle)
        handle.flush()
        os.fsync(handle.fileno())

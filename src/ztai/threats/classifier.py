"""The shield's trained tier: logistic regressions over hashed word and character n-grams
(TF-IDF weighted, L2-normalised per window), scored with numpy only. One head per role: a user
prompt may ask for anything, a document or tool output should not be giving the model orders.
Long texts are scored in overlapping word windows and a text scores its highest window, so an
injection hidden in a long document is not diluted by the benign text around it."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from ztai.threats import features

MODEL_FILE = "shield_model.npz"
META_FILE = "shield_model.json"
FORMAT = "ztai-shield-ngram-lr/2"

Table = npt.NDArray[np.float32]


class Role(StrEnum):
    PROMPT = "prompt"  # what a user (or a system prompt) says to the model
    DOCUMENT = "document"  # what the model reads: retrieved text, e-mail, web page, tool output


class ModelFileError(Exception):
    """The model files are missing, unreadable or of another format: nothing can be scored."""


@dataclass(frozen=True, slots=True)
class WindowScore:
    """One window of a text: code-point span ``[start, end)`` and its attack score in [0, 1]."""

    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Head:
    """One role's logistic head: the logit's bias, its Platt calibration
    ``sigmoid(slope * logit + offset)`` and the threshold recommended for that role."""

    bias: float
    slope: float = 1.0
    offset: float = 0.0
    threshold: float = 0.5


@dataclass(frozen=True, slots=True)
class Geometry:
    """Windows of ``window`` words, ``stride`` words apart."""

    window: int = 48
    stride: int = 24


class ShieldModel:
    """Scores text as a prompt-injection / jailbreak attack in a given role. Scores are
    calibrated probability-like values in [0, 1]; scoring never raises on any ``str`` (an empty
    text scores its head's bias). Cost is linear in the text's length."""

    __slots__ = ("_norms", "_pairs", "_weights", "geometry", "heads", "meta")

    def __init__(self, weights: dict[Role, Table], norms: Table, heads: dict[Role, Head],
                 geometry: Geometry, meta: dict[str, Any] | None = None) -> None:
        size = 1 << features.BITS
        if set(weights) != set(Role) or set(heads) != set(Role):
            raise ModelFileError("the model needs a table and a head for every role")
        if norms.shape != (size,) or any(w.shape != (size,) for w in weights.values()):
            raise ModelFileError(f"tables must have {size} entries")
        # per role, weight + 1j * norm: one gather and one prefix sum serve a window's
        # numerator and its L2 norm (the real and imaginary parts sum apart)
        self._pairs = {role: _pair(w, norms) for role, w in weights.items()}
        self._weights = {role: pairs.real for role, pairs in self._pairs.items()}
        self._norms = self._pairs[Role.PROMPT].imag
        self.heads = heads
        self.geometry = geometry
        self.meta = meta or {}

    @classmethod
    def load(cls) -> ShieldModel:
        """The model shipped in the package, read once per process."""
        return _packaged()

    @classmethod
    def from_files(cls, folder: Path) -> Self:
        """Read ``shield_model.npz`` and ``shield_model.json`` from ``folder``."""
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            with np.load(folder / MODEL_FILE, allow_pickle=False) as arrays:
                weights = {role: arrays[f"weights_{role}"] for role in Role}
                norms = arrays["norms"]
            if meta.get("format") != FORMAT:
                raise ValueError(f"unknown model format {meta.get('format')!r}")
            heads = {Role(role): Head(**head) for role, head in meta["heads"].items()}
            geometry = Geometry(**meta["geometry"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"cannot read the shield model in {folder}: {exc}") from exc
        return cls(weights, norms, heads, geometry, meta)

    def save(self, folder: Path) -> None:
        """Write the two model files (float16 tables, JSON metadata) into ``folder``."""
        np.savez_compressed(folder / MODEL_FILE, norms=self._norms.astype(np.float16),
                            weights_prompt=self._weights[Role.PROMPT].astype(np.float16),
                            weights_document=self._weights[Role.DOCUMENT].astype(np.float16))
        meta = {**self.meta, "format": FORMAT, "geometry": asdict(self.geometry),
                "heads": {str(role): asdict(head) for role, head in self.heads.items()}}
        (folder / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    def with_heads(self, heads: dict[Role, Head], meta: dict[str, Any] | None = None) -> Self:
        """The same tables under other heads (after calibration) and metadata."""
        return type(self)(self._weights, self._norms, heads, self.geometry,
                          self.meta if meta is None else meta)

    def logits(self, text: str, role: Role) -> tuple[features.Windows, npt.NDArray[np.float64]]:
        """The windows of ``text`` and each one's uncalibrated logit under ``role``'s head."""
        return self._logits(features.encode(text), role)

    def _logits(self, enc: features.Encoded, role: Role) -> tuple[features.Windows,
                                                                    npt.NDArray[np.float64]]:
        win = features.windows(enc, self.geometry.window, self.geometry.stride)
        if len(win.start) == 1:
            return win, np.array([self._whole_logit(enc, role)])
        chars, words = features.window_sums(enc, win, self._pairs[role])
        z = (self.heads[role].bias + chars.real / np.sqrt(np.maximum(chars.imag, 1e-12))
             + words.real / np.sqrt(np.maximum(words.imag, 1e-12)))
        return win, z

    def _whole_logit(self, enc: features.Encoded, role: Role) -> float:
        """The logit of a text that is one window: plain sums, no prefix sums, no arrays."""
        ((chars, words),) = features.whole_sums(enc, (self._pairs[role],))
        return (self.heads[role].bias + chars.real / math.sqrt(max(chars.imag, 1e-12))
                + words.real / math.sqrt(max(words.imag, 1e-12)))

    def score_windows(self, text: str, role: Role = Role.PROMPT) -> list[WindowScore]:
        """Every window's span and score, in text order."""
        head = self.heads[role]
        enc = features.encode(text)
        if len(enc.starts) <= self.geometry.window:  # one window (most prompts, tool calls)
            logit = min(max(head.slope * self._whole_logit(enc, role) + head.offset, -50.0), 50.0)
            return [WindowScore(0, enc.length, 1.0 / (1.0 + math.exp(-logit)))]
        win, z = self._logits(enc, role)
        probs = 1.0 / (1.0 + np.exp(-np.clip(head.slope * z + head.offset, -50.0, 50.0)))
        return [WindowScore(int(s), int(e), float(p))
                for s, e, p in zip(win.start, win.end, probs, strict=True)]

    def score(self, text: str, role: Role = Role.PROMPT) -> float:
        """The text's attack score under ``role``: its highest window's."""
        return max(window.score for window in self.score_windows(text, role))

    def threshold(self, role: Role) -> float:
        """The score at or above which ``role``'s text is flagged by default."""
        return self.heads[role].threshold


def _pair(weights: Table, norms: Table) -> npt.NDArray[np.complex64]:
    pairs = np.empty(len(weights), dtype=np.complex64)
    pairs.real, pairs.imag = weights, norms
    return pairs


@functools.cache
def _packaged() -> ShieldModel:
    folder = resources.files("ztai.threats") / "data"
    with resources.as_file(folder) as path:
        return ShieldModel.from_files(Path(path))

"""The four engines bench/dlp compares, behind one small interface: ztai's detectors run in this
process, Presidio's in a worker process (bench/.venv-presidio, presidio_side.py --serve) driven
over JSON lines, so that Presidio and its dependencies never meet ztai's."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from timing import Timing, time_first_call, time_pass

from ztai.protection.evaluation_pii import Span, predict
from ztai.protection.interface import Detector
from ztai.protection.pii_kinds import PiiKind

HERE = Path(__file__).resolve().parent
PRESIDIO_PYTHON = HERE.parent / ".venv-presidio" / "bin" / "python"
# The kinds structured_pii_detector() runs; default_pii_detector() adds the other three.
MODEL_FREE_NLP_KINDS = frozenset({PiiKind.PERSON, PiiKind.LOCATION, PiiKind.STREET_ADDRESS})


@dataclass(frozen=True, slots=True)
class Loaded:
    """What loading an engine cost (building it, then its first call on timing.FIRST_TEXT)
    and what it can report (entity types, Presidio names)."""

    build_s: float
    first_call_s: float
    types: frozenset[str]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def load_s(self) -> float:
        return self.build_s + self.first_call_s


class Engine(Protocol):
    name: str

    def load(self) -> Loaded: ...

    def predict(self) -> list[tuple[Span, ...]]: ...

    def time_pass(self, workload: str) -> Timing: ...


class ZtaiEngine:
    """A ztai PII detector built by ``factory``; spans typed by ``evaluation_pii.predict``.
    ``workloads`` (timing.workloads) holds the texts: ``rows`` are predicted, any may be timed."""

    def __init__(
        self,
        name: str,
        factory: Callable[[], Detector],
        kinds: frozenset[PiiKind],
        workloads: Mapping[str, Sequence[str]],
    ) -> None:
        self.name, self.factory, self.kinds, self.workloads = name, factory, kinds, workloads
        self.detector: Detector | None = None

    def load(self) -> Loaded:
        started = time.perf_counter()
        self.detector = self.factory()
        build_s = time.perf_counter() - started
        first_call_s = time_first_call(self.detector.detect)
        return Loaded(build_s, first_call_s, frozenset(k.presidio_name for k in self.kinds))

    def predict(self) -> list[tuple[Span, ...]]:
        return [predict(self._detector(), text) for text in self.workloads["rows"]]

    def time_pass(self, workload: str) -> Timing:
        return time_pass(self._detector().detect, self.workloads[workload])

    def _detector(self) -> Detector:
        if self.detector is None:
            raise RuntimeError(f"{self.name}: load() first")
        return self.detector


def ztai_engines(workloads: Mapping[str, Sequence[str]]) -> list[ZtaiEngine]:
    """ztai's structured detector and its default one (names, places, street addresses too)."""
    from ztai.protection.pii import default_pii_detector, structured_pii_detector

    every = frozenset(PiiKind)
    return [
        ZtaiEngine(
            "ztai-structured", structured_pii_detector, every - MODEL_FREE_NLP_KINDS, workloads
        ),
        ZtaiEngine("ztai-default", default_pii_detector, every, workloads),
    ]


def ztai_import_seconds(python: Path) -> float:
    """Import time of ztai's PII detectors, in a fresh interpreter as Presidio's is measured."""
    code = (
        "import time; t = time.perf_counter(); import ztai.protection.pii; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


class PresidioWorker:
    """presidio_side.py --serve in Presidio's venv: one JSON request a line, one answer a line.
    It reads the same files as run.py (``data``, and ``prompts`` for the prompts workload) and
    builds the same workloads. Its stderr goes to ours. Raises ``RuntimeError`` when it is
    missing or dies."""

    def __init__(
        self, data: Path, rows: int | None, joined_bytes: int, prompts: Path | None = None
    ) -> None:
        if not PRESIDIO_PYTHON.exists():
            raise RuntimeError(f"{PRESIDIO_PYTHON} not found: run bench/dlp/setup.sh")
        argv = [
            str(PRESIDIO_PYTHON),
            str(HERE / "presidio_side.py"),
            str(data),
            "--serve",
            "--joined-bytes",
            str(joined_bytes),
        ]
        if rows is not None:
            argv += ["--rows", str(rows)]
        if prompts is not None:
            argv += ["--prompts", str(prompts)]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=worker_env()
        )
        if self.process.stdin is None or self.process.stdout is None:
            raise RuntimeError("presidio worker started without pipes")
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.hello = self._read()

    def request(self, op: str, engine: str, **fields: str) -> dict[str, Any]:
        self.stdin.write(json.dumps({"op": op, "engine": engine, **fields}) + "\n")
        self.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        line = self.stdout.readline()
        if not line:
            raise RuntimeError(f"presidio worker exited ({self.process.wait()}): see its stderr")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def __enter__(self) -> PresidioWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with contextlib.suppress(BrokenPipeError):
            if self.process.poll() is None:
                self.stdin.write(json.dumps({"op": "quit", "engine": ""}) + "\n")
            self.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class PresidioEngine:
    """One of presidio_side.py's engines (``pattern`` or ``spacy``) in the shared worker."""

    def __init__(self, name: str, key: str, worker: PresidioWorker) -> None:
        self.name, self.key, self.worker = name, key, worker

    def load(self) -> Loaded:
        answer = self.worker.request("load", self.key)
        details = {k: answer[k] for k in ("nlp_engine", "recognizers", "entities")}
        types = frozenset(answer["entities"])
        return Loaded(answer["build_s"], answer["first_call_s"], types, details)

    def predict(self) -> list[tuple[Span, ...]]:
        rows = self.worker.request("predict", self.key)["predictions"]
        return [tuple(Span(start, end, kind) for start, end, kind, _ in row) for row in rows]

    def time_pass(self, workload: str) -> Timing:
        answer = self.worker.request("time", self.key, workload=workload)
        return Timing(answer["cpu_s"], answer["wall_s"])


def worker_env() -> dict[str, str]:
    """Our environment plus no network for tldextract and one BLAS/OpenMP thread."""
    from presidio_side import OFFLINE_SINGLE_THREAD_ENV

    return {**os.environ, **OFFLINE_SINGLE_THREAD_ENV}
